/// What a rule asks for when its condition holds; when several rules fire, the strongest outcome wins.
public enum RuleOutcome: Int, Sendable, Comparable, CaseIterable {
    case allow = 0
    case review = 1
    case block = 2

    /// The word that names this outcome in a rule file.
    public var name: String {
        switch self {
        case .allow: "allow"
        case .review: "review"
        case .block: "block"
        }
    }

    /// The outcome a rule file names with `name`, or `nil` if there is none; names are case-sensitive.
    public init?(name: String) {
        switch name {
        case "allow": self = .allow
        case "review": self = .review
        case "block": self = .block
        default: return nil
        }
    }

    public static func < (lhs: RuleOutcome, rhs: RuleOutcome) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
