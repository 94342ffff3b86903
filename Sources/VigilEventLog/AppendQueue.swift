import Dispatch
import Synchronization

/// The state appenders and the writer thread share: records waiting to be written, their waiters,
/// the sequence counter, the lifecycle, and the readable extent of each segment.
final class AppendQueue: Sendable {
    typealias Continuation = CheckedContinuation<Result<UInt64, EventLogError>, Never>

    /// Whoever waits for one append: of one record, or of several appended together (``append(contentsOf:)``), resumed
    /// with the sequence of its first record.
    struct Waiter {
        let continuation: Continuation
        let records: Int

        func resume(returning result: Result<UInt64, EventLogError>) { continuation.resume(returning: result) }
    }

    struct State: ~Copyable {
        /// Framed records not yet taken by the writer.
        var batch: [UInt8]
        /// One waiter per append in `batch`, in order, each for its `records`; the first record of the i-th has
        /// sequence `batchFirstSequence` plus the records of the waiters before it.
        var waiters: [Waiter]
        var batchFirstSequence: UInt64
        var nextSequence: UInt64
        /// Why appends are refused: nil while open, `.closed` after shutdown starts, `.io` after a failure.
        var rejection: EventLogError?
        var closing = false
        var closed = false
        /// The writer is parked on `wakeup` (or about to be) and needs a signal to see new work.
        var writerIdle = false
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        /// Every segment and the bytes of complete records in it, for readers in this process.
        var segments: [EventLogSegment]
    }

    /// What the writer found when it looked for work.
    enum Work {
        case batch(firstSequence: UInt64)
        case finish
        case idle
    }

    let maxRecordBytes: Int
    let state: Mutex<State>
    let wakeup = DispatchSemaphore(value: 0)

    init(nextSequence: UInt64, segments: [EventLogSegment], maxRecordBytes: Int) {
        self.maxRecordBytes = maxRecordBytes
        var batch: [UInt8] = []
        batch.reserveCapacity(64 << 10)
        self.state = Mutex(
            State(
                batch: batch, waiters: [], batchFirstSequence: nextSequence, nextSequence: nextSequence,
                segments: segments))
    }

    func append(_ payload: [UInt8]) async throws(EventLogError) -> UInt64 {
        try await append(contentsOf: [payload])
    }

    /// Appends the records in order, together (one lock hold, one waiter): they share a batch's write and sync.
    /// Returns the first record's sequence.
    func append(contentsOf payloads: [[UInt8]]) async throws(EventLogError) -> UInt64 {
        guard !payloads.isEmpty, payloads.allSatisfy({ !$0.isEmpty }) else {
            throw EventLogError(code: .invalidArgument, message: "an event-log record cannot be empty")
        }
        if let large = payloads.first(where: { $0.count > self.maxRecordBytes }) {
            throw EventLogError(
                code: .recordTooLarge,
                message: "record of \(large.count) bytes exceeds the limit of \(self.maxRecordBytes) bytes")
        }
        // Checksums outside the lock so concurrent appenders do them in parallel.
        let checksums = payloads.map { CRC32C.checksum($0) }
        let result = await withCheckedContinuation { (continuation: Continuation) in
            let waiter = Waiter(continuation: continuation, records: payloads.count)
            let rejection: EventLogError?
            let wake: Bool
            (rejection, wake) = self.state.withLock { state in
                if let rejection = state.rejection { return (rejection, false) }
                for (payload, checksum) in zip(payloads, checksums) {
                    withUnsafeBytes(of: UInt32(truncatingIfNeeded: payload.count).littleEndian) {
                        state.batch.append(contentsOf: $0)
                    }
                    withUnsafeBytes(of: checksum.littleEndian) { state.batch.append(contentsOf: $0) }
                    state.batch.append(contentsOf: payload)
                }
                state.waiters.append(waiter)
                state.nextSequence += UInt64(payloads.count)
                let wake = state.writerIdle
                state.writerIdle = false
                return (nil, wake)
            }
            if let rejection {
                waiter.resume(returning: .failure(rejection))
            } else if wake {
                self.wakeup.signal()
            }
        }
        return try result.get()
    }

    func shutdown() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let (closed, wake) = self.state.withLock { state in
                if state.closed { return (true, false) }
                state.shutdownWaiters.append(waiter)
                return (false, Self.beginClosing(&state))
            }
            if closed {
                waiter.resume()
            } else if wake {
                self.wakeup.signal()
            }
        }
    }

    /// Starts shutdown without waiting for it, for a handle that goes away without `shutdown()`.
    func requestShutdown() {
        let wake = self.state.withLock { state in state.closed ? false : Self.beginClosing(&state) }
        if wake { self.wakeup.signal() }
    }

    /// Refuses further appends and marks the queue closing; returns whether the writer needs a signal.
    private static func beginClosing(_ state: inout State) -> Bool {
        if state.rejection == nil {
            state.rejection = EventLogError(code: .closed, message: "the event log is shut down")
        }
        state.closing = true
        let wake = state.writerIdle
        state.writerIdle = false
        return wake
    }

    /// Hands the writer everything pending by swapping in its empty buffers, or tells it to finish or park.
    func takeWork(batch: inout [UInt8], waiters: inout [Waiter]) -> Work {
        self.state.withLock { state in
            state.writerIdle = false
            if !state.waiters.isEmpty {
                swap(&state.batch, &batch)
                swap(&state.waiters, &waiters)
                let first = state.batchFirstSequence
                state.batchFirstSequence = state.nextSequence
                return .batch(firstSequence: first)
            }
            if state.closing { return .finish }
            state.writerIdle = true
            return .idle
        }
    }

    /// Refuses further appends after a failed write or sync, and fails everything still queued.
    func fail(_ error: EventLogError) {
        let stranded: [Waiter] = self.state.withLock { state in
            if state.rejection == nil || state.rejection?.code == .closed {
                state.rejection = EventLogError(
                    code: .io, message: "the event log failed and refuses appends: \(error.message)")
            }
            var stranded: [Waiter] = []
            swap(&state.waiters, &stranded)
            state.batch.removeAll()
            state.batchFirstSequence = state.nextSequence
            return stranded
        }
        for waiter in stranded { waiter.resume(returning: .failure(error)) }
    }

    /// Marks the queue closed and resumes everyone waiting in `shutdown()`.
    func finish() {
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
            state.closed = true
            var waiters: [CheckedContinuation<Void, Never>] = []
            swap(&state.shutdownWaiters, &waiters)
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The error every append now fails with after a failed write or sync; nil while open or merely closed.
    var failure: EventLogError? {
        self.state.withLock { state in state.rejection?.code == .io ? state.rejection : nil }
    }

    /// The segments readers in this process may read, with the bytes of complete records in each.
    var readableSegments: [EventLogSegment] {
        self.state.withLock { $0.segments }
    }

    /// The sequence number the next append will get: every record below it has been handed to the log.
    var nextSequence: UInt64 {
        self.state.withLock { $0.nextSequence }
    }

    /// Forgets the segments that start below `firstSequence` (retention deleted them); never the last.
    func dropSegments(below firstSequence: UInt64) {
        self.state.withLock { state in
            let keep = state.segments.firstIndex { $0.firstSequence >= firstSequence } ?? state.segments.count - 1
            state.segments.removeFirst(min(keep, state.segments.count - 1))
        }
    }

    /// Publishes a segment's size after a write, or a new segment after a roll.
    func publish(_ segment: EventLogSegment) {
        self.state.withLock { state in
            if state.segments.last?.firstSequence == segment.firstSequence {
                state.segments[state.segments.count - 1] = segment
            } else {
                state.segments.append(segment)
            }
        }
    }
}
