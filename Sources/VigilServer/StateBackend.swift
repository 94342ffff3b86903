public import VigilEngine
import Logging
import ServiceLifecycle
public import VigilFeatures

/// Where a node keeps its scoring state: feature state and the duplicate check.
///
/// The embedded default (``embedded(duplicateRetentionHours:)``) keeps both in the process and rebuilds them from the
/// node's own event log at start. A shared back end (Valkey/Redis, built by the `vigil` executable from the
/// `VigilRedisState` adapter) already holds them, so the node replays nothing and is ready at once; its event log
/// stays the record of what the node acknowledged. VigilServer never imports an adapter: it gets one of these.
public struct StateBackend<Store: FeatureStore, Duplicates: DuplicateStore>: Sendable {
    public var features: Store
    public var duplicates: Duplicates
    /// Whether the node rebuilds the state from its event log at start (true only for in-process state).
    public var replaysEventLog: Bool
    /// The usage limiter; a shared one holds each tenant's allowance across nodes.
    public var usage: any UsageLimiting
    /// Checks the back end for `/ready`: nil when it answers, else why not (no secrets, no PII). Must return within
    /// a bounded time.
    public var check: @Sendable () async -> String?
    /// What the back end is, for the start-up log line (no password).
    public var summary: String
    /// The back end's own counters, read at each `/metrics` scrape; none for in-process state.
    public var counters: @Sendable () -> [StateStoreCounter] = { [] }
    /// The node's region link, when the back end was built for one (its peer-replicated duplicates count into it);
    /// nil lets ``buildApplication(configuration:controlPlane:backend:logger:failStop:onListening:)`` make one from
    /// the configuration.
    public var link: RegionLink?
    /// The region's own duplicate store, where ``duplicates`` also writes to the peer region's
    /// (``PeerReplicatedDuplicates``): folding the peer's events records its answers here only. Nil when
    /// ``duplicates`` is the region's own.
    public var localDuplicates: (any DuplicateStore)?
    /// The reference data the daily files load (reports, directory, account links, entitlements, load progress): in
    /// the process by default (rebuilt from the event log with the rest), on Valkey/Redis with a shared back end.
    public var reference: any ReferenceStore = InMemoryReferenceStore()

    public init(
        features: Store, duplicates: Duplicates, replaysEventLog: Bool, usage: any UsageLimiting, summary: String,
        check: @escaping @Sendable () async -> String?
    ) {
        self.features = features
        self.duplicates = duplicates
        self.replaysEventLog = replaysEventLog
        self.usage = usage
        self.summary = summary
        self.check = check
    }
}

/// A monotonic count a shared store keeps, exposed as a Prometheus counter.
public struct StateStoreCounter: Sendable, Equatable {
    /// The metric's name, `vigil_state_store_…_total`.
    public var name: String
    public var help: String
    public var total: Int

    public init(name: String, help: String, total: Int) {
        self.name = name
        self.help = help
        self.total = total
    }
}

extension StateBackend where Store == InMemoryFeatureStore, Duplicates == DuplicateIndex {
    /// State in this process, rebuilt from the event log at start.
    public static func embedded(duplicateRetentionHours: Int) -> StateBackend {
        StateBackend(
            features: InMemoryFeatureStore(), duplicates: DuplicateIndex(retentionSeconds: Int64(duplicateRetentionHours) * 3600),
            replaysEventLog: true, usage: UsageLimiter(), summary: "memory", check: { nil }
        )
    }
}

/// Asks the state back end every second whether it answers, and keeps `/ready` in step: a node whose store is
/// unreachable reports not ready (so a load balancer sends its traffic elsewhere) and ready again once it answers.
/// The change is logged once each way, never per request.
struct BackendMonitor: Service {
    let check: @Sendable () async -> String?
    let state: ServerState
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        var lastProblem: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let problem = await check()
            if problem != lastProblem {
                state.setBackendProblem(problem)
                if let problem {
                    logger.error("The state back end does not answer; not ready", metadata: ["vigil.error": .string(problem)])
                } else if lastProblem != nil {
                    logger.notice("The state back end answers again; ready")
                }
                lastProblem = problem
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}
