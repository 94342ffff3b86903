/// One payment from the held-out period as the scoring engine saw it, with its outcome label.
public struct ScoredExample: Sendable, Hashable {
    /// The engine's score, 0–999; higher is riskier.
    public var score: Int
    /// The calibrated probability behind the score.
    public var probability: Double
    /// `allow`, `review` or `block`, after the tenant's thresholds and rules.
    public var decision: String
    public var isFraud: Bool
    /// `app_scam`, `account_takeover`, `mule`, `first_party` or `other`; `nil` for a genuine payment.
    public var fraudType: String?
    /// `sending` or `receiving`: which bank asked.
    public var perspective: String
    /// The payment's amount in major units, used to weigh frauds by value.
    public var amount: Double
    /// The UTC date of the payment's `createdAt`, `yyyy-MM-dd`.
    public var day: String

    public init(
        score: Int, probability: Double, decision: String, isFraud: Bool, fraudType: String? = nil,
        perspective: String, amount: Double, day: String
    ) {
        self.score = score
        self.probability = probability
        self.decision = decision
        self.isFraud = isFraud
        self.fraudType = fraudType
        self.perspective = perspective
        self.amount = amount
        self.day = day
    }

    /// Whether the bank would have stopped or looked at the payment: any decision other than `allow`.
    public var isFlagged: Bool { self.decision != "allow" }
}
