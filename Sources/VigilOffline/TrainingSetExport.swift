public import VigilDomain
public import VigilEngine
import VigilFeatures

/// Builds `vigil training-set export`'s file from the event log (docs/labels.md): the payments scored in
/// `[from, to)`, each with the features the model saw (the scored event carries them), labelled 1 when a fraud label
/// for the tenant's payment id or UETR was known at the cut-off, in the `vigil features` file format
/// (``FeatureFileWriter``) so that `vigil train --features` trains on it with no replay.
///
/// Point in time: a label counts when both the log's time for it (``KnownLabel/knownAt``) and the bank's time
/// (``KnownLabel/at``) are at or before the cut-off, so a report that arrived later is 0 in the set, as it was to the
/// service then. A fraud label is a fraud report (run time or file) or a return or recall with reason `FRAD`.
///
/// Rows left out: duplicate-answered records (a retry, nothing scored) and degraded scores (scored without the shared
/// state, so their features are not what the payment's history said; ``Summary/degraded`` counts them).
public struct TrainingSetBuilder {
    public struct Summary: Sendable, Equatable {
        /// Scored payments in the range: the file's rows.
        public var rows = 0
        /// Of them, labelled 1.
        public var frauds = 0
        /// Degraded scores in the range, left out.
        public var degraded = 0
        /// Fraud labels that came after the cut-off (or say they happened after it), not counted.
        public var labelsAfterCutoff = 0

        public init(rows: Int = 0, frauds: Int = 0, degraded: Int = 0, labelsAfterCutoff: Int = 0) {
            self.rows = rows
            self.frauds = frauds
            self.degraded = degraded
            self.labelsAfterCutoff = labelsAfterCutoff
        }
    }

    /// What a row needs of a scored event: no tokens, no payment details beyond the file's meta columns.
    struct Scored {
        var tenant: String
        var paymentId: String
        var uetr: String?
        var createdAt: Instant
        var perspective: Perspective
        var amount: Money
        var features: [Double?]
    }

    public let from: Instant
    public let to: Instant
    public let labelCutoff: Instant?
    public let tenant: String?
    var scored: [Scored] = []
    /// The first fraud label known at the cut-off per `tenant \0 p|u \0 id`, with its fraud type (nil for a `FRAD`
    /// outcome, which names none).
    var frauds: [String: FraudType?] = [:]
    public private(set) var summary = Summary()

    /// - Parameters:
    ///   - from, to: the payments received in `[from, to)` are the rows.
    ///   - labelCutoff: labels known after it do not count; nil counts every label in the log.
    ///   - tenant: one tenant's payments and labels only; nil for all.
    public init(from: Instant, to: Instant, labelCutoff: Instant?, tenant: String? = nil) {
        self.from = from
        self.to = to
        self.labelCutoff = labelCutoff
        self.tenant = tenant
    }

    /// Takes one log record, in any order.
    public mutating func add(_ event: LoggedEvent) {
        guard tenant == nil || event.tenant == tenant else { return }
        if let label = KnownLabel(event) {
            guard label.isFraud else { return }
            if let cutoff = labelCutoff, label.knownAt > cutoff || label.at > cutoff {
                summary.labelsAfterCutoff += 1
                return
            }
            let (paymentId, uetr, type): (String?, String?, FraudType?) =
                switch label.record {
                case .fraudReport(let report): (report.paymentId, report.uetr, report.fraudType)
                case .outcome(let status): (status.paymentId, status.uetr, nil)
                }
            if let paymentId, frauds[Self.key(label.tenant, "p", paymentId)] == nil { frauds[Self.key(label.tenant, "p", paymentId)] = type }
            if let uetr, frauds[Self.key(label.tenant, "u", uetr)] == nil { frauds[Self.key(label.tenant, "u", uetr)] = type }
            return
        }
        guard case .scored(let event) = event, event.receivedAt >= from, event.receivedAt < to, !event.response.duplicate else { return }
        if event.response.degraded == true {
            summary.degraded += 1
            return
        }
        scored.append(Scored(
            tenant: event.tenant, paymentId: event.paymentId, uetr: event.request.uetr, createdAt: event.request.createdAt,
            perspective: event.request.perspective, amount: event.request.amount, features: event.features
        ))
    }

    static func key(_ tenant: String, _ kind: String, _ id: String) -> String { tenant + "\u{0}" + kind + "\u{0}" + id }

    /// The file, rows in the order their payments were scored.
    public mutating func write() -> [UInt8] {
        var writer = FeatureFileWriter()
        summary.rows = 0
        summary.frauds = 0
        for row in scored {
            let label = frauds[Self.key(row.tenant, "p", row.paymentId)] ?? row.uetr.flatMap { frauds[Self.key(row.tenant, "u", $0)] }
            writer.append(
                paymentId: row.paymentId, createdAt: row.createdAt, perspective: row.perspective, amount: row.amount,
                features: row.features, fraudType: label ?? nil, isFraud: label != nil
            )
            summary.rows += 1
            if label != nil { summary.frauds += 1 }
        }
        return writer.text
    }
}
