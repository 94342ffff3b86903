/// One of `<`, `<=`, `>`, `>=`, `==`, `!=`.
@usableFromInline
enum ComparisonOperator: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case lessThan
    case lessThanOrEqual
    case greaterThan
    case greaterThanOrEqual
    case equal
    case notEqual

    @usableFromInline
    var description: String {
        switch self {
        case .lessThan: "<"
        case .lessThanOrEqual: "<="
        case .greaterThan: ">"
        case .greaterThanOrEqual: ">="
        case .equal: "=="
        case .notEqual: "!="
        }
    }

    /// Whether `lhs op rhs` holds; false whenever either side is NaN, `!=` included.
    @inlinable
    func holds(_ lhs: Double, _ rhs: Double) -> Bool {
        switch self {
        case .lessThan: lhs < rhs
        case .lessThanOrEqual: lhs <= rhs
        case .greaterThan: lhs > rhs
        case .greaterThanOrEqual: lhs >= rhs
        case .equal: lhs == rhs
        // IEEE `!=` is true for NaN; a missing value must not satisfy any comparison.
        case .notEqual: lhs < rhs || lhs > rhs
        }
    }
}
