import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilFiles
import VigilGateway
import VigilProtection

/// Why a batch of labels was not recorded in full.
struct LabelRecordingError: Error, Sendable, Equatable {
    enum Code: Sendable, Equatable {
        /// The event log refused the batch: none of it is recorded.
        case logUnavailable
        /// The batch is in the log, but the shared state store did not take it all; a retry records it again (once).
        case stateUnavailable
    }

    var code: Code
}

/// Tokenises, logs (one batch, durable before it returns) and applies labels and outcomes for a tenant: what every
/// run-time label path calls (`POST /v1/fraud-reports`; the ISO 20022 pacs.002 and camt.056 routes).
///
/// All or nothing: the batch goes to the log in one append, so either every label is in the log or none is, and none
/// is acknowledged unless all are. Then each is applied to the reference store as the same daily-file row would be
/// (``ScoringEngine/apply(_:)-(LabelEvent)``): a fraud report, or a return or recall for fraud, that names a
/// creditor joins the consortium list. Applying is idempotent (report identities), so a batch retried after a
/// ``LabelRecordingError/Code/stateUnavailable`` counts once on the list; the log then holds it twice, and
/// `vigil labels export` shows both (`vigil training-set export` labels a payment once).
struct LabelRecorder<Store: FeatureStore, Log: EventLog, Duplicates: DuplicateStore>: Sendable {
    let engine: ScoringEngine<Store, Log, Duplicates>

    /// - Parameters:
    ///   - keys: the tenant's key ring (``KeyRing/scoped(to:)``), as the gateway takes it.
    ///   - receivedAt: when the labels arrived: their known-at time.
    /// - Returns: how many labels were recorded (all of them).
    func record(
        fraudReports: [ParsedFraudReport], outcomes: [ParsedStatus], tenant: String, keys: KeyRing, source: LabelSource,
        receivedAt: Instant
    ) async throws(LabelRecordingError) -> Int {
        let gateway = Gateway(keys: keys)
        let events =
            fraudReports.map { LabelEvent(tenant: tenant, receivedAt: receivedAt, source: source, record: .fraudReport(gateway.tokenize($0))) }
            + outcomes.map { LabelEvent(tenant: tenant, receivedAt: receivedAt, source: source, record: .outcome(gateway.tokenize($0))) }
        guard !events.isEmpty else { return 0 }
        do {
            _ = try await engine.log.append(contentsOf: events.map { EventCoding.record($0) })
        } catch {
            throw LabelRecordingError(code: .logUnavailable)
        }
        do {
            for event in events { try await engine.apply(event) }
        } catch {
            throw LabelRecordingError(code: .stateUnavailable)
        }
        return events.count
    }
}
