/// A rule condition as written, with the source positions that checking errors point at.
///
/// `and` and `or` hold all their terms in one node, so a long chain stays shallow and
/// only `(` and `not`, which the parser limits, add depth.
indirect enum RuleExpression: Equatable, Sendable, CustomStringConvertible {
    case or([RuleExpression])
    case and([RuleExpression])
    case not(RuleExpression)
    case comparison(OperandReference, ComparisonOperator, operatorPosition: SourcePosition, RuleValue)
    case membership(OperandReference, inPosition: SourcePosition, [RuleValue])

    /// Fully parenthesised source for the expression, showing how it was grouped.
    var description: String {
        switch self {
        case .or(let terms): "(" + terms.map(\.description).joined(separator: " or ") + ")"
        case .and(let terms): "(" + terms.map(\.description).joined(separator: " and ") + ")"
        case .not(let operand): "not \(operand)"
        case .comparison(let lhs, let op, _, let rhs): "\(lhs.name) \(op) \(rhs)"
        case .membership(let lhs, _, let elements): "\(lhs.name) in [" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// An operand named in a rule, before it is looked up in the schema.
struct OperandReference: Equatable, Sendable {
    var name: String
    var position: SourcePosition
}

/// The right-hand side of a comparison, or an element of an `in` list.
enum RuleValue: Equatable, Sendable, CustomStringConvertible {
    case operand(OperandReference)
    case number(Double, position: SourcePosition)
    case string(String, position: SourcePosition)

    var position: SourcePosition {
        switch self {
        case .operand(let reference): reference.position
        case .number(_, let position), .string(_, let position): position
        }
    }

    var description: String {
        switch self {
        case .operand(let reference): reference.name
        case .number(let value, _): "\(value)"
        case .string(let value, _): "\"\(quoted(value))\""
        }
    }
}

/// One `rule "name": condition -> outcome` statement as written.
struct RuleStatement: Equatable, Sendable {
    var name: String
    var namePosition: SourcePosition
    var condition: RuleExpression
    var outcome: RuleOutcome
    /// The line of the `rule` keyword.
    var line: Int
}
