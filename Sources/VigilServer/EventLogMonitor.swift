public import Logging
public import ServiceLifecycle
import Synchronization
import UnixSignals
import VigilEventLog

/// How a node leaves the fail-stopped state: it shuts down gracefully and exits with ``exitStatus`` so that its
/// supervisor (the systemd unit's `Restart=on-failure`) starts it again, and recovery reopens the log.
public final class FailStop: Sendable {
    /// `EX_TEMPFAIL` from `sysexits.h`: the event log failed; a restart, once the disk has room, may succeed.
    public static let exitStatus: Int32 = 75

    private let stopped = Atomic<Bool>(false)
    private let group = Mutex<ServiceGroup?>(nil)

    public init() {}

    /// Whether the node has begun to stop because its event log failed.
    public var hasStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Runs `service` until SIGTERM or SIGINT, or until the event log fails, each a graceful shutdown.
    public func run(_ service: some Service, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        self.group.withLock { $0 = group }
        try await group.run()
    }

    /// Marks the node stopped and shuts the attached group down gracefully: requests in flight finish.
    func stop() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if let group = group.withLock({ $0 }) { await group.triggerGracefulShutdown() }
    }
}

/// Watches the event log for a failed write or sync. When it fails the node stops being ready (`/ready` 503,
/// `vigil_ready` 0), says so once in the log, then every `summaryInterval` logs how many payments it refused
/// meanwhile, instead of one line per payment; after `exitDelay`, time enough for a load balancer to take the node
/// out, it stops through `failStop`.
struct EventLogMonitor<Log: EventLog>: Service {
    let log: Log
    let state: ServerState
    let metrics: ServerMetrics
    let failStop: FailStop
    let exitDelay: Duration
    let logger: Logger
    var pollInterval: Duration = .milliseconds(250)
    var summaryInterval: Duration = .seconds(10)

    func run() async throws {
        guard let failure = await waitForFailure() else { return }
        state.markEventLogFailed()
        metrics.setReady(false)
        logger.critical(
            "The event log failed: no payment is acknowledged from now on, /ready answers 503",
            metadata: [
                "vigil.error": .string(failure.description),
                "vigil.exit.status": .stringConvertible(FailStop.exitStatus),
                "vigil.exit.after": .string("\(exitDelay)"),
            ]
        )
        let clock = ContinuousClock()
        let exitAt = clock.now + exitDelay
        var reported = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let untilExit = exitAt - clock.now
            let wait = failStop.hasStopped || untilExit > summaryInterval ? summaryInterval : max(untilExit, .zero)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            reported = summarize(since: reported)
            if clock.now >= exitAt, !failStop.hasStopped {
                logger.notice(
                    "Stopping after the event log failed, to be restarted by the supervisor",
                    metadata: ["vigil.exit.status": .stringConvertible(FailStop.exitStatus)]
                )
                await failStop.stop()
            }
        }
        _ = summarize(since: reported)
    }

    /// The log's failure once it happens; nil if the service stops first.
    private func waitForFailure() async -> EventLogError? {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let failure = log.failure { return failure }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
        return log.failure
    }

    /// Logs the payments refused since the count `reported`, if any; returns the count now.
    private func summarize(since reported: Int) -> Int {
        let total = state.unacknowledged.load(ordering: .relaxed)
        if total > reported {
            logger.error(
                "Payments refused since the event log failed",
                metadata: ["vigil.payments.refused": .stringConvertible(total - reported), "vigil.payments.refused_total": .stringConvertible(total)]
            )
        }
        return total
    }
}
