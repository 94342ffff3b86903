import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures

/// `ScoringEngine.score` end to end — duplicate reservation, features, model, reasons, rules, event encode,
/// append to an `InMemoryEventLog` — with `receivedAt` = the payment's `createdAt`.
///
/// Each configuration gets a fresh engine. Pass `k` scores the workload shifted `k` periods later with ids
/// suffixed `~k` (see `Workload.payments(pass:)`), so every score is a new payment and old duplicate-index
/// entries expire as they would in a server.
struct EndToEnd {
    let workload: Workload
    let model: ModelBundle
    let tenant: TenantPolicy
    let sampler: Sampler

    /// What one configuration achieved.
    struct Result {
        var measurement: Measurement
        var scored: Int
        /// Resident memory growth per score, in bytes, over the whole run (see `Heap`); nil where it cannot be read.
        var retainedBytesPerScore: Double?
        /// Mean size of one logged event; `InMemoryEventLog` keeps every one, which a file log does not.
        var eventBytes: Double
        /// With a challenger: shadow records logged, and payments the challenger did not score (queue full).
        var shadows: (logged: Int, dropped: Int)?
    }

    /// Scores every pass with `tasks` concurrent tasks; task `t` scores payments `t`, `t + tasks`, … of the
    /// pass in order, so the tasks move through time together.
    /// - Parameter challenger: a model scored in the shadow of every payment, by a worker task draining the engine's
    ///   shadow queue as the server's `ShadowScoringService` does; nil for none.
    func run(tasks: Int, challenger: ModelBundle? = nil) async throws -> Result {
        let log = InMemoryEventLog()
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: log, model: model)
        engine.models.replace(ModelSet(champion: model, challenger: challenger))
        let shadowWorker = challenger.map { _ in
            Task {
                var logged = 0
                for await _ in engine.shadows.rings { logged += (try? await engine.shadows.drain(into: log)) ?? 0 }
                return logged + ((try? await engine.shadows.drain(into: log)) ?? 0)
            }
        }
        let tenant = self.tenant
        var scored = 0
        let heapBefore = Heap.residentAnonymousBytes()
        let measurement = try await sampler.run(payments: workload.payments.count) { pass in
            let payments = workload.payments(pass: pass)
            let slices = (0..<tasks).map { t in stride(from: t, to: payments.count, by: tasks).map { payments[$0] } }
            let start = ContinuousClock.now
            let done = await withTaskGroup(of: Int.self) { group in
                for slice in slices {
                    group.addTask { await Self.score(slice, engine: engine, tenant: tenant) }
                }
                return await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            guard done == payments.count else { throw WorkloadError("only \(done) of \(payments.count) payments were scored") }
            scored += done
            return elapsed
        }
        let heapAfter = Heap.residentAnonymousBytes()
        engine.shadows.finish()
        let shadowsLogged = await shadowWorker?.value
        let records = log.records
        return Result(
            measurement: measurement,
            scored: scored,
            retainedBytesPerScore: heapBefore.flatMap { before in heapAfter.map { Double($0 - before) / Double(scored) } },
            eventBytes: Double(records.reduce(0) { $0 + $1.count }) / Double(records.count),
            shadows: shadowsLogged.map { ($0, engine.shadows.dropped) }
        )
    }

    /// Scores `payments` one after another and returns how many were scored (not duplicates or refusals).
    static func score(_ payments: [TokenizedPayment], engine: ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>, tenant: TenantPolicy) async -> Int {
        var scored = 0
        for payment in payments {
            if case .scored = await engine.score(payment, tenant: tenant, receivedAt: payment.createdAt, started: .now) { scored += 1 }
        }
        return scored
    }
}
