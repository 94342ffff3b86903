public import VigilDomain
import VigilFeatures
public import VigilRules

/// What the engine needs to know about a tenant to decide: its thresholds and its rules.
public struct TenantPolicy: Sendable {
    public var name: String
    /// Score at or above which a payment is `review`.
    public var reviewThreshold: Int
    /// Score at or above which a payment is `block`.
    public var blockThreshold: Int
    public var rules: RuleSet

    public init(name: String, reviewThreshold: Int, blockThreshold: Int, rules: RuleSet) {
        self.name = name
        self.reviewThreshold = reviewThreshold
        self.blockThreshold = blockThreshold
        self.rules = rules
    }

    /// The operands a rule may use: `score`, `amount`, every feature, and the payment's text fields.
    public static let ruleSchema = RuleSchema(
        numeric: ["score", "amount"] + Feature.allCases.map(\.name),
        text: ["currency", "perspective", "scheme", "channel"]
    )

    /// Compiles a tenant's rule text against the rule schema.
    public static func compileRules(_ source: String) throws(RuleError) -> RuleSet {
        try RuleSet.compile(source, schema: ruleSchema)
    }

    func decision(forScore score: Int) -> Decision {
        if score >= blockThreshold { return .block }
        if score >= reviewThreshold { return .review }
        return .allow
    }
}

extension Decision {
    init(_ outcome: RuleOutcome) {
        switch outcome {
        case .allow: self = .allow
        case .review: self = .review
        case .block: self = .block
        }
    }
}
