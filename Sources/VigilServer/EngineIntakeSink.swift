public import VigilDomain
public import VigilEngine
public import VigilEventLog
public import VigilFeatures
public import VigilFiles

/// Where the intake pipeline's records go in the running service: each record is applied to the engine's state
/// (``ScoringEngine/apply(_:recordingProgress:)``), then appended to the event log as an intake record, then its row
/// is recorded as loaded in the reference store (per tenant and file); a record at or below its file's loaded row is
/// skipped.
///
/// So a file loaded again changes nothing, and a load cut short anywhere counts nothing twice: a record applied but
/// not logged is lost with the in-process state it changed (which recovery rebuilds from the log) or, on a shared
/// store, is recognised when it comes again (history payments by their consortium identity, reports by their report
/// identity; directory rows, links and entitlements are set, not added); a record logged but without its progress is
/// applied again by recovery together with its progress.
public struct EngineIntakeSink<Store: FeatureStore, Log: EventLog, Duplicates: DuplicateStore>: IntakeSink {
    public let engine: ScoringEngine<Store, Log, Duplicates>

    public init(engine: ScoringEngine<Store, Log, Duplicates>) {
        self.engine = engine
    }

    /// Applies the batch's new records in order, appends them to the log together (one lock hold, shared syncs), then
    /// records each file's progress.
    /// - Throws: a shared store's `StateStoreError` or the log's `EventLogError`; the progress is then not recorded,
    ///   and ``loadedRow(tenant:fileId:)`` says how far the last whole batch went.
    public func load(_ events: [IntakeEvent]) async throws {
        var loaded: [String: Int] = [:]
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(events.count)
        for event in events {
            let key = event.progressKey
            let done: Int
            if let known = loaded[key] {
                done = known
            } else {
                done = try await engine.reference.loadedRow(fileId: key)
            }
            loaded[key] = max(done, event.row)
            guard event.row > done else { continue }
            try await engine.apply(event, recordingProgress: false)
            payloads.append(EventCoding.record(event))
        }
        _ = try await engine.log.appendAll(payloads)
        for (key, row) in loaded.sorted(by: { $0.key < $1.key }) {
            try await engine.reference.recordLoaded(fileId: key, row: row)
        }
    }

    public func loadedRow(tenant: String, fileId: String) async throws -> Int {
        try await engine.reference.loadedRow(fileId: IntakeEvent.progressKey(tenant: tenant, fileId: fileId))
    }
}
