/// The tenant's score thresholds and rules behind the decisions, so the report can say what produced them.
public struct DecisionPolicy: Sendable, Hashable {
    /// Score at or above which a payment is `review`.
    public var reviewThreshold: Int
    /// Score at or above which a payment is `block`.
    public var blockThreshold: Int
    /// How many rules the tenant had; rules can flag a payment below the thresholds or allow one above them.
    public var ruleCount: Int
    /// The rules' names, so that the report lists every rule, including those that never fired.
    public var ruleNames: [String]

    public init(reviewThreshold: Int, blockThreshold: Int, ruleCount: Int = 0, ruleNames: [String] = []) {
        self.reviewThreshold = reviewThreshold
        self.blockThreshold = blockThreshold
        self.ruleCount = max(ruleCount, ruleNames.count)
        self.ruleNames = ruleNames
    }
}
