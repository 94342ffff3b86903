/// What Vigil recommends the bank do with a payment. Ordered by severity.
public enum Decision: String, Sendable, Codable, CaseIterable, Comparable {
    case allow, review, block

    var severity: Int {
        switch self {
        case .allow: 0
        case .review: 1
        case .block: 2
        }
    }

    public static func < (lhs: Decision, rhs: Decision) -> Bool { lhs.severity < rhs.severity }
}

/// One feature's push on the score, with its stable reason code.
public struct Reason: Sendable, Hashable, Codable {
    public var code: String
    public var feature: String
    public var contribution: Double

    public init(code: String, feature: String, contribution: Double) {
        self.code = code
        self.feature = feature
        self.contribution = contribution
    }
}

/// A rule that fired and the outcome it asked for.
public struct RuleFiring: Sendable, Hashable, Codable {
    public var name: String
    public var outcome: Decision

    public init(name: String, outcome: Decision) {
        self.name = name
        self.outcome = outcome
    }
}

/// The answer to `POST /v1/payments/score`.
public struct ScoreResponse: Sendable, Hashable, Codable {
    public var paymentId: String
    public var scoreId: String
    public var score: Int
    public var decision: Decision
    public var reasons: [Reason]
    public var rules: [RuleFiring]
    public var duplicate: Bool
    public var modelVersion: String
    public var processingMicros: Int
    /// `true` when the shared state store failed and the node, configured with `stateFailure = degraded`, scored the
    /// payment from its request alone (no velocity, history or duplicate check); absent otherwise.
    public var degraded: Bool?

    public init(
        paymentId: String, scoreId: String, score: Int, decision: Decision, reasons: [Reason], rules: [RuleFiring],
        duplicate: Bool, modelVersion: String, processingMicros: Int, degraded: Bool? = nil
    ) {
        self.paymentId = paymentId
        self.scoreId = scoreId
        self.score = score
        self.decision = decision
        self.reasons = reasons
        self.rules = rules
        self.duplicate = duplicate
        self.modelVersion = modelVersion
        self.processingMicros = processingMicros
        self.degraded = degraded
    }
}

/// The record appended to the event log for every scored payment.
public struct ScoredPaymentEvent: Sendable, Hashable, Codable {
    public var tenant: String
    public var paymentId: String
    public var receivedAt: Instant
    public var request: TokenizedPayment
    public var response: ScoreResponse
    public var modelVersion: String
    /// The feature values the model saw, in `vigil features list` order; null where missing. Kept so that
    /// what was scored can be audited and compared with an offline replay (the skew test).
    public var features: [Double?]

    public init(tenant: String, receivedAt: Instant, request: TokenizedPayment, response: ScoreResponse, features: [Double]) {
        self.tenant = tenant
        self.paymentId = request.paymentId
        self.receivedAt = receivedAt
        self.request = request
        self.response = response
        self.modelVersion = response.modelVersion
        self.features = features.map { $0.isNaN ? nil : $0 }
    }
}

/// The record appended to the event log when an exact retry is answered from the duplicate store: the original
/// answer was sent again and nothing was scored. Kept so that reporting can count duplicates per tenant and day; it
/// holds no payment data, only the ids.
public struct DuplicateAnsweredEvent: Sendable, Hashable {
    public var tenant: String
    public var paymentId: String
    /// When the retry arrived (not when the original was scored).
    public var receivedAt: Instant
    /// The `scoreId` of the original answer, which the retry was given again.
    public var originalScoreId: String

    public init(tenant: String, paymentId: String, receivedAt: Instant, originalScoreId: String) {
        self.tenant = tenant
        self.paymentId = paymentId
        self.receivedAt = receivedAt
        self.originalScoreId = originalScoreId
    }
}

/// The challenger's answer for a payment the champion scored, logged off the response path (shadow scoring,
/// docs/models.md). It changes no state: recovery and the peer fold pass over it.
public struct ShadowScoreEvent: Sendable, Hashable {
    public var tenant: String
    public var paymentId: String
    /// The champion's `ScoreResponse.scoreId`: joins the scored event.
    public var scoreId: String
    /// The scored event's `receivedAt`.
    public var receivedAt: Instant
    /// The challenger's `ModelBundle.version`.
    public var modelVersion: String
    /// 0–999, the same mapping as the champion's.
    public var score: Int
    /// The challenger's (calibrated) probability behind `score`.
    public var probability: Double

    public init(
        tenant: String, paymentId: String, scoreId: String, receivedAt: Instant, modelVersion: String, score: Int, probability: Double
    ) {
        self.tenant = tenant
        self.paymentId = paymentId
        self.scoreId = scoreId
        self.receivedAt = receivedAt
        self.modelVersion = modelVersion
        self.score = score
        self.probability = probability
    }
}
