public import VigilDomain
public import VigilEngine
public import VigilEventLog
public import VigilFeatures
public import VigilFiles

/// Where the intake pipeline's records go in the running service: each record is applied to the engine's state
/// (``ScoringEngine/apply(_:recordingProgress:)``), then appended to the event log as an intake record (up to
/// ``recordsPerAppend`` together, one sync for them), then its row is recorded as loaded in the reference store; a
/// record at or below its file's loaded row is skipped.
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

    /// - Throws: a shared store's `StateStoreError` or the log's `EventLogError`; the records before the failing one
    ///   are loaded, and ``loadedRow(tenant:fileId:)`` says how far.
    public func load(_ events: [IntakeEvent]) async throws {
        var loaded: [String: Int] = [:]
        var pending: [IntakeEvent] = []
        pending.reserveCapacity(min(events.count, Self.recordsPerAppend))
        for event in events {
            let done: Int
            let key = event.progressKey
            if let known = loaded[key] {
                done = known
            } else {
                done = try await engine.reference.loadedRow(fileId: key)
            }
            loaded[key] = max(done, event.row)
            guard event.row > done else { continue }
            try await engine.apply(event, recordingProgress: false)
            pending.append(event)
            if pending.count == Self.recordsPerAppend { try await commit(&pending) }
        }
        try await commit(&pending)
    }

    /// How many applied records are appended together: they share one write and sync of the log, so a large file
    /// loads at the log's throughput rather than one sync per row.
    static var recordsPerAppend: Int { 1024 }

    /// Appends the applied records together, then records each file's highest row among them as loaded.
    func commit(_ pending: inout [IntakeEvent]) async throws {
        guard !pending.isEmpty else { return }
        _ = try await engine.log.append(contentsOf: pending.map { EventCoding.record($0) })
        var highest: [String: Int] = [:]
        for event in pending { highest[event.progressKey] = max(highest[event.progressKey] ?? 0, event.row) }
        for (fileId, row) in highest.sorted(by: { $0.key < $1.key }) { try await engine.reference.recordLoaded(fileId: fileId, row: row) }
        pending.removeAll(keepingCapacity: true)
    }

    public func loadedRow(tenant: String, fileId: String) async throws -> Int {
        try await engine.reference.loadedRow(fileId: IntakeEvent.progressKey(tenant: tenant, fileId: fileId))
    }
}
