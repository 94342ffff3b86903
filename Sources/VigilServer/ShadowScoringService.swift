public import Logging
public import ServiceLifecycle
public import Synchronization
public import VigilEngine
public import VigilEventLog

/// Scores the challenger in the shadow: takes the payments the engine queued (``ShadowQueue``), scores each with the
/// challenger its request saw, on the feature vector the champion scored, and appends the `shadow` records in one
/// batch per wake-up. Off the response path: a request only queues (or, when the queue is full, drops and counts).
public struct ShadowScoringService<Log: EventLog>: Service {
    public let queue: ShadowQueue
    public let log: Log
    /// Shadow records appended, and shadow records lost because the log refused them.
    public let counts: ShadowCounts
    let logger: Logger

    public init(queue: ShadowQueue, log: Log, counts: ShadowCounts = ShadowCounts(), logger: Logger) {
        self.queue = queue
        self.log = log
        self.counts = counts
        self.logger = logger
    }

    public func run() async throws {
        let queue = self.queue
        await withGracefulShutdownHandler {
            for await _ in queue.rings { await drain() }
            // Jobs queued after the last ring was taken.
            await drain()
        } onGracefulShutdown: {
            queue.finish()
        }
    }

    /// Scores and logs every job waiting now.
    /// - Returns: how many shadow records were appended.
    @discardableResult
    public func drain() async -> Int {
        do {
            let logged = try await queue.drain(into: log)
            counts.logged.add(logged, ordering: .relaxed)
            return logged
        } catch {
            counts.refused.add(error.lost, ordering: .relaxed)
            logger.error(
                "Lost shadow scores: the event log refused them",
                metadata: ["vigil.shadow.records": "\(error.lost)", "vigil.error": "\(error.underlying)"]
            )
            return 0
        }
    }
}

/// What shadow scoring has done, for `/metrics`.
public final class ShadowCounts: Sendable {
    public let logged = Atomic<Int>(0)
    public let refused = Atomic<Int>(0)

    public init() {}
}
