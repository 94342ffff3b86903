import Synchronization
public import VigilDomain
public import VigilEventLog

/// The event log refused a batch of shadow records.
public struct ShadowDrainError: Error, Sendable, CustomStringConvertible {
    /// How many shadow records were lost.
    public var lost: Int
    public var underlying: EventLogError
    public var description: String { "\(lost) shadow records lost: \(underlying)" }
}

/// A payment the champion scored, waiting to be scored by the challenger the request saw.
public struct ShadowJob: Sendable {
    public var tenant: String
    public var paymentId: String
    public var scoreId: String
    public var receivedAt: Instant
    /// The feature vector the champion scored (the same array the scored event holds, not a copy).
    public var features: [Double]
    public var challenger: ModelBundle

    /// The challenger's answer for these features: the same calibration and 0–999 mapping the champion's goes through.
    public func score() -> ShadowScoreEvent {
        let probability = challenger.probability(features)
        return ShadowScoreEvent(
            tenant: tenant, paymentId: paymentId, scoreId: scoreId, receivedAt: receivedAt, modelVersion: challenger.version,
            score: ModelBundle.score(probability: probability),
            probability: probability
        )
    }
}

/// Hands scored payments from the request path to the shadow-scoring worker: bounded, and never waits. When the
/// worker falls behind and ``capacity`` jobs wait, a new job is dropped and counted (``dropped``), so a slow
/// challenger costs shadow records, never request latency.
public final class ShadowQueue: Sendable {
    /// How many jobs may wait.
    public let capacity: Int
    let pending: Mutex<[ShadowJob]>
    let dropCount = Atomic<Int>(0)
    let bell: AsyncStream<Void>.Continuation
    /// Rings (at most one ring waits) whenever a job is queued.
    public let rings: AsyncStream<Void>

    public init(capacity: Int = 8192) {
        precondition(capacity > 0, "a shadow queue holds at least one job")
        self.capacity = capacity
        self.pending = Mutex([])
        (rings, bell) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a job, or drops it when the queue is full.
    /// - Returns: whether the job was queued.
    @discardableResult
    public func submit(_ job: ShadowJob) -> Bool {
        let queued = pending.withLock { jobs in
            guard jobs.count < capacity else { return false }
            jobs.append(job)
            return true
        }
        if queued {
            bell.yield()
        } else {
            dropCount.add(1, ordering: .relaxed)
        }
        return queued
    }

    /// Every job waiting now, oldest first; the queue is left empty.
    public func takeAll() -> [ShadowJob] {
        pending.withLock { jobs in
            var taken: [ShadowJob] = []
            swap(&taken, &jobs)
            jobs.reserveCapacity(min(taken.count, capacity))
            return taken
        }
    }

    /// Scores every job waiting now with its challenger and appends the `shadow` records to `log` in one batch.
    /// - Returns: how many records were appended (0 when none waited).
    /// - Throws: the log's error; the jobs taken are then lost (the caller counts them).
    public func drain<Log: EventLog>(into log: Log) async throws(ShadowDrainError) -> Int {
        let jobs = takeAll()
        guard !jobs.isEmpty else { return 0 }
        let records = jobs.map { EventCoding.record($0.score()) }
        do {
            _ = try await log.append(contentsOf: records)
        } catch {
            throw ShadowDrainError(lost: records.count, underlying: error)
        }
        return records.count
    }

    /// How many jobs were dropped because the queue was full, since it was made.
    public var dropped: Int { dropCount.load(ordering: .relaxed) }

    /// Ends ``rings`` once the jobs already rung for are taken.
    public func finish() { bell.finish() }
}
