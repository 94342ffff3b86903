/// One statement of a compiled rule file, as an operator sees it in a decision.
public struct Rule: Sendable, Hashable {
    /// The name between quotes, unique within its file.
    public let name: String
    /// What the rule asks for when its condition holds.
    public let outcome: RuleOutcome
    /// The 1-based line of the rule's `rule` keyword.
    public let line: Int

    public init(name: String, outcome: RuleOutcome, line: Int) {
        self.name = name
        self.outcome = outcome
        self.line = line
    }
}
