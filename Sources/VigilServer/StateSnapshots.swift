import Foundation
public import Logging
import ServiceLifecycle
import VigilDomain
public import VigilEngine
public import VigilEventLog
public import VigilFeatures

/// Takes snapshots of the embedded scoring state and loads the newest valid one at start.
///
/// **Consistency while scoring goes on.** The log's next sequence `S` is read first. The engine changes the state
/// before it appends a payment's event, so every record below `S` is in the state taken after it. Records from `S`
/// on may be in it in part: a payment's change to one record and its applied-payment marker are made under that
/// record's lock, and the capture holds every lock at once, so a replay of them from `S` applies exactly the parts
/// the snapshot lacks. The duplicate index records an answer after the append, so the capture waits until the ids
/// that were being scored when it looked have their answers (or were released), then copies the index again.
public final class StateSnapshots: Sendable {
    public let store: InMemoryFeatureStore
    public let duplicates: DuplicateIndex
    public let usage: UsageLimiter?
    public let log: FileEventLog
    public let directory: SnapshotDirectory
    /// Now, in milliseconds since the epoch: the snapshot's creation time.
    let clock: @Sendable () -> Int64

    /// The in-process reference store, whose data the snapshot holds too; nil when it is shared (or absent).
    public let reference: InMemoryReferenceStore?

    public init(
        store: InMemoryFeatureStore, duplicates: DuplicateIndex, usage: UsageLimiter?, log: FileEventLog, dataDirectory: String,
        reference: InMemoryReferenceStore? = nil, clock: (@Sendable () -> Int64)? = nil
    ) {
        self.reference = reference
        self.store = store
        self.duplicates = duplicates
        self.usage = usage
        self.log = log
        self.directory = SnapshotDirectory(dataDirectory: dataDirectory)
        self.clock = clock ?? { Int64(Date().timeIntervalSince1970 * 1000) }
    }

    /// What one snapshot took.
    public struct Summary: Sendable {
        public var sequence: UInt64
        public var bytes: Int
        /// How long scoring could not change the state: the capture, with every lock held.
        public var pause: Duration
        /// How long waiting for the answers of payments being scored took.
        public var answersWait: Duration
        /// Capture, encoding and the durable write, end to end.
        public var duration: Duration
    }

    /// How long a snapshot waits for the answers of the payments being scored when it looked.
    static let answersWaitLimit = Duration.seconds(5)

    /// Takes a snapshot and writes it; the older ones beyond the newest two are deleted.
    /// - Throws: ``SnapshotError`` when the log has failed (its state may hold unlogged payments), the answers of
    ///   payments being scored did not come within 5 s, or the file cannot be written.
    @discardableResult
    public func take() async throws -> Summary {
        let started = ContinuousClock.now
        if let failure = log.failure { throw SnapshotError(.io, "the event log has failed (\(failure)); no snapshot") }
        let sequence = log.nextSequence
        let captureStart = ContinuousClock.now
        let features = store.capture()
        let pause = ContinuousClock.now - captureStart
        let referenceImage = reference?.capture() ?? .empty
        var answers = duplicates.capture()
        let waitStart = ContinuousClock.now
        if answers.pendingCount > 0 {
            while duplicates.isStillPending(answers) {
                guard ContinuousClock.now - waitStart < Self.answersWaitLimit else {
                    throw SnapshotError(.io, "payments being scored did not get their answers within 5 s; no snapshot")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            answers = duplicates.capture()
        }
        let answersWait = ContinuousClock.now - waitStart
        let snapshot = Snapshot(
            sequence: sequence, createdAtMillis: clock(), features: features, duplicates: answers, usage: usage?.dayCounts() ?? [],
            reference: referenceImage)
        let directory = self.directory
        let bytes = try await blocking { try directory.write(snapshot.encode(), sequence: sequence) }
        return Summary(sequence: sequence, bytes: bytes, pause: pause, answersWait: answersWait, duration: ContinuousClock.now - started)
    }

    /// What recovery found in the snapshot directory.
    public struct Loaded: Sendable {
        /// Where the replay starts: the loaded snapshot's sequence, or the log's first record without one.
        public var replayFrom: UInt64
        /// The loaded snapshot's sequence, if one was loaded.
        public var snapshot: UInt64?
        public var skipped: [(sequence: UInt64, reason: SnapshotError)]
    }

    /// Loads the newest snapshot that is whole and fits the log into the store, the index and the usage counts, or
    /// nothing. A damaged one is decoded into fresh structures and dropped, never half loaded. Each skipped snapshot
    /// is logged with its reason (`vigil.snapshot.skipped`).
    public func load(logger: Logger) async throws -> Loaded {
        let (log, directory, shards) = (self.log, self.directory, duplicates.shardCount)
        let outcomes = try await blocking {
            directory.loadNewest(logFirst: log.firstSequence, logNext: log.nextSequence, duplicateShards: shards)
        }
        var loaded = Loaded(replayFrom: log.firstSequence, snapshot: nil, skipped: [])
        for outcome in outcomes {
            switch outcome {
            case .skipped(let sequence, let reason):
                loaded.skipped.append((sequence, reason))
                logger.warning(
                    "Skipped a snapshot",
                    metadata: [
                        "vigil.snapshot.file": .string(SnapshotDirectory.fileName(sequence: sequence)),
                        "vigil.snapshot.skipped": .string(reason.description),
                    ])
            case .loaded(let snapshot):
                store.restore(snapshot.features)
                duplicates.restore(snapshot.duplicates)
                usage?.recordRecovered(snapshot.usage)
                reference?.restore(snapshot.reference)
                loaded.replayFrom = snapshot.sequence
                loaded.snapshot = snapshot.sequence
            }
        }
        return loaded
    }

    /// The sequence below which the log is covered by the snapshots kept: the older of the two, so that either one,
    /// with the log after it, recovers the state. Nil while fewer than one exists.
    public func coveredSequence() -> UInt64? {
        (try? directory.sequences().prefix(SnapshotDirectory.kept))?.last
    }
}

/// Writes a snapshot every `interval`, and one at graceful shutdown: it stops after the HTTP server (services stop
/// in reverse order) and before ``EventLogService`` closes the log, so no payment is scored after it and a planned
/// restart replays nothing. Only once recovery has finished: a half-recovered state is not worth keeping.
struct SnapshotService: Service {
    let snapshots: StateSnapshots
    let state: ServerState
    let interval: Duration?
    let logger: Logger

    func run() async throws {
        if let interval {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                if state.isRecovered { await snapshot(reason: "periodic") }
            }
        } else {
            try? await gracefulShutdown()
        }
        if state.isRecovered { await snapshot(reason: "shutdown") }
    }

    func snapshot(reason: String) async {
        do {
            let summary = try await snapshots.take()
            logger.notice(
                "Wrote a snapshot",
                metadata: [
                    "vigil.snapshot.reason": .string(reason), "vigil.snapshot.sequence": "\(summary.sequence)",
                    "vigil.snapshot.bytes": "\(summary.bytes)", "vigil.snapshot.pause": "\(summary.pause)",
                    "vigil.snapshot.duration": "\(summary.duration)",
                ])
        } catch {
            logger.error("Could not write a snapshot", metadata: ["vigil.snapshot.reason": .string(reason), "vigil.error": "\(error)"])
        }
    }
}
