public import VigilDomain
public import VigilEngine
import VigilEvaluation
import VigilJSON

/// `vigil model compare`: two or more models on the labelled payments of a period. Each model's score for each payment
/// comes from a ``ModelComparison/ScoreSource``; today the logged feature vectors are scored again by each model file
/// (exact: the event keeps the features as they were scored). Shadow records (the challenger's score logged beside the
/// champion's, issue 14 §3) are meant to be another source, added through ``add(tenant:paymentId:uetr:scores:)``.
public struct ModelComparison: Sendable {
    /// A model under comparison, by role.
    public struct Candidate: Sendable {
        /// `champion`, `challenger`, …
        public var role: String
        public var model: ModelBundle

        public init(role: String, model: ModelBundle) {
            self.role = role
            self.model = model
        }
    }

    /// A tenant's review and block thresholds (`tenants.json`).
    public struct Thresholds: Sendable, Equatable {
        public var review: Int
        public var block: Int

        public init(review: Int, block: Int) {
            self.review = review
            self.block = block
        }
    }

    public let candidates: [Candidate]
    public let thresholds: [String: Thresholds]
    /// For a tenant `thresholds` does not name (no longer configured, or a peer's).
    public let defaultThresholds: Thresholds
    public private(set) var period: LabelledPeriod
    var payments: [Payment] = []

    struct Payment: Sendable {
        var tenant: String
        var paymentId: String
        var uetr: String?
        /// One per candidate, in `candidates` order.
        var scores: [Int]
    }

    public init(candidates: [Candidate], thresholds: [String: Thresholds], defaultThresholds: Thresholds, period: LabelledPeriod) {
        self.candidates = candidates
        self.thresholds = thresholds
        self.defaultThresholds = defaultThresholds
        self.period = period
    }

    /// Takes one record of the log, in any order: each scored payment of the period is scored again by every
    /// candidate; labels of any time are kept.
    public mutating func add(_ event: LoggedEvent) {
        switch event {
        case .scored(let scored):
            // A degraded answer's features are the request's alone: either model would see other features in service.
            guard period.contains(scored), scored.response.degraded != true else { return }
            let features = scored.features.map { $0 ?? .nan }
            add(tenant: scored.tenant, paymentId: scored.paymentId, uetr: scored.request.uetr, scores: candidates.map { $0.model.assess(features: features).score })
        case .intake, .label:
            period.label(event)
        case .duplicateAnswered, .shadow:
            break
        }
    }

    /// Takes one payment's scores, one per candidate, from whatever source.
    public mutating func add(tenant: String, paymentId: String, uetr: String?, scores: [Int]) {
        precondition(scores.count == candidates.count, "one score per candidate")
        payments.append(Payment(tenant: tenant, paymentId: paymentId, uetr: uetr, scores: scores))
    }

    /// Takes a label from whatever source (run-time label records, issue 14 §2, come here as the daily files' do).
    public mutating func label(tenant: String, paymentId: String?, uetr: String?) {
        period.label(tenant: tenant, paymentId: paymentId, uetr: uetr)
    }

    public func report() -> ModelComparisonReport {
        let fraud = payments.map { period.isFraud(tenant: $0.tenant, paymentId: $0.paymentId, uetr: $0.uetr) }
        let tenantNames = Set(payments.map(\.tenant)).sorted()
        var models: [ModelComparisonReport.Model] = []
        for (index, candidate) in candidates.enumerated() {
            let scores = payments.map { $0.scores[index] }
            let curve = RankingCurve(scores: scores, isPositive: fraud)
            let point = curve.bestPoint(maxFalsePositiveRate: ModelComparisonReport.falsePositiveRate)
            var model = ModelComparisonReport.Model(
                role: candidate.role, version: candidate.model.version, rocAUC: curve.rocAUC,
                recallAtFPR: point.map { Double($0.truePositives) / Double(curve.positives) }
            )
            for tenant in tenantNames {
                let limits = thresholds[tenant] ?? defaultThresholds
                var volume = ModelComparisonReport.AlertVolume(tenant: tenant, review: limits.review, block: limits.block)
                for (payment, isFraud) in zip(payments, fraud) where payment.tenant == tenant {
                    let score = payment.scores[index]
                    volume.payments += 1
                    if score >= limits.review {
                        volume.alerts += 1
                        if isFraud { volume.alertedFrauds += 1 }
                    }
                    if score >= limits.block { volume.blocks += 1 }
                }
                model.tenants.append(volume)
            }
            models.append(model)
        }
        return ModelComparisonReport(
            from: period.from, to: period.to, payments: payments.count, frauds: fraud.filter { $0 }.count, models: models
        )
    }
}

/// What `vigil model compare` prints.
public struct ModelComparisonReport: Sendable {
    /// The false-positive rate recall is read at.
    public static let falsePositiveRate = 0.01

    public var from: Instant
    public var to: Instant
    /// Payments of the period compared (not degraded).
    public var payments: Int
    /// Of them, reported as fraud so far.
    public var frauds: Int
    public var models: [Model]

    public struct Model: Sendable, Equatable {
        public var role: String
        public var version: String
        /// nil unless the period holds both frauds and genuine payments.
        public var rocAUC: Double?
        /// Recall at 1% false-positive rate (the best threshold whose rate is at most that); nil as ``rocAUC``.
        public var recallAtFPR: Double?
        /// By tenant name.
        public var tenants: [AlertVolume] = []
    }

    /// What a model would have alerted for a tenant at its thresholds (score thresholds only; rules come on top).
    public struct AlertVolume: Sendable, Equatable {
        public var tenant: String
        public var review: Int
        public var block: Int
        public var payments = 0
        /// Scores at or above `review` (review or block).
        public var alerts = 0
        /// Scores at or above `block`.
        public var blocks = 0
        /// Alerts reported as fraud.
        public var alertedFrauds = 0

        public init(tenant: String, review: Int, block: Int, payments: Int = 0, alerts: Int = 0, blocks: Int = 0, alertedFrauds: Int = 0) {
            self.tenant = tenant
            self.review = review
            self.block = block
            self.payments = payments
            self.alerts = alerts
            self.blocks = blocks
            self.alertedFrauds = alertedFrauds
        }
    }

    public func text() -> String {
        func figure(_ value: Double?) -> String { value.map { String(format4: $0) } ?? "–" }
        var lines = ["model compare: \(from.rfc3339UTC) to \(to.rfc3339UTC), \(payments) payments, \(frauds) reported as fraud so far"]
        for model in models {
            lines.append("\(model.role) \(model.version): ROC-AUC \(figure(model.rocAUC)), recall at 1% FPR \(figure(model.recallAtFPR))")
            for volume in model.tenants {
                lines.append(
                    "  \(volume.tenant) (review \(volume.review), block \(volume.block)): \(volume.alerts) alerts "
                        + "(\(volume.blocks) block) of \(volume.payments) payments, \(volume.alertedFrauds) of them reported as fraud"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON with sorted keys; absent figures are `null`.
    public func json() -> String {
        var writer = JSONWriter(capacity: 1024)
        func optional(_ value: Double?) { if let value { writer.double(value) } else { writer.null() } }
        writer.beginObject()
        writer.key("falsePositiveRate")
        writer.double(Self.falsePositiveRate)
        writer.key("frauds")
        writer.int(frauds)
        writer.key("from")
        writer.string(from.rfc3339UTC)
        writer.key("models")
        writer.beginArray()
        for model in models {
            writer.beginObject()
            writer.key("recallAtFPR")
            optional(model.recallAtFPR)
            writer.key("rocAUC")
            optional(model.rocAUC)
            writer.key("role")
            writer.string(model.role)
            writer.key("tenants")
            writer.beginArray()
            for volume in model.tenants {
                writer.beginObject()
                writer.key("alertedFrauds")
                writer.int(volume.alertedFrauds)
                writer.key("alerts")
                writer.int(volume.alerts)
                writer.key("block")
                writer.int(volume.block)
                writer.key("blocks")
                writer.int(volume.blocks)
                writer.key("payments")
                writer.int(volume.payments)
                writer.key("review")
                writer.int(volume.review)
                writer.key("tenant")
                writer.string(volume.tenant)
                writer.endObject()
            }
            writer.endArray()
            writer.key("version")
            writer.string(model.version)
            writer.endObject()
        }
        writer.endArray()
        writer.key("payments")
        writer.int(payments)
        writer.key("to")
        writer.string(to.rfc3339UTC)
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
