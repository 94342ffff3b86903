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
    /// The bank's payment id, so that an analyst can look the payment up; empty when the caller has none.
    public var paymentId: String
    /// The reason codes the engine gave, strongest first.
    public var reasons: [String]
    /// The names of the tenant's rules that fired.
    public var rules: [String]

    public init(
        score: Int, probability: Double, decision: String, isFraud: Bool, fraudType: String? = nil,
        perspective: String, amount: Double, day: String, paymentId: String = "", reasons: [String] = [],
        rules: [String] = []
    ) {
        self.score = score
        self.probability = probability
        self.decision = decision
        self.isFraud = isFraud
        self.fraudType = fraudType
        self.perspective = perspective
        self.amount = amount
        self.day = day
        self.paymentId = paymentId
        self.reasons = reasons
        self.rules = rules
    }

    /// Whether the bank would have stopped or looked at the payment: any decision other than `allow`.
    public var isFlagged: Bool { self.decision != "allow" }
}
