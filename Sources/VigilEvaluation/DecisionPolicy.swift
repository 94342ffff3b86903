/// The tenant's score thresholds and rules behind the decisions, so the report can say what produced them.
public struct DecisionPolicy: Sendable, Hashable {
    /// Score at or above which a payment is `review`.
    public var reviewThreshold: Int
    /// Score at or above which a payment is `block`.
    public var blockThreshold: Int
    /// How many rules the tenant had; rules can flag a payment below the thresholds or allow one above them.
    public var ruleCount: Int

    public init(reviewThreshold: Int, blockThreshold: Int, ruleCount: Int = 0) {
        self.reviewThreshold = reviewThreshold
        self.blockThreshold = blockThreshold
        self.ruleCount = ruleCount
    }
}
