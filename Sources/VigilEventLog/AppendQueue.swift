import Dispatch
import Synchronization

/// The state appenders and the writer thread share: records waiting to be written, their waiters,
/// the sequence counter, the lifecycle, and the readable extent of each segment.
final class AppendQueue: Sendable {
    typealias Waiter = CheckedContinuation<Result<UInt64, EventLogError>, Never>

    struct State: ~Copyable {
        /// Framed records not yet taken by the writer.
        var batch: [UInt8]
        /// One waiter per record in `batch`, in order; the i-th has sequence `batchFirstSequence + i`.
        var waiters: [Waiter?]
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
        guard !payload.isEmpty else {
            throw EventLogError(code: .invalidArgument, message: "an event-log record cannot be empty")
        }
        guard payload.count <= self.maxRecordBytes else {
            throw EventLogError(
                code: .recordTooLarge,
                message: "record of \(payload.count) bytes exceeds the limit of \(self.maxRecordBytes) bytes")
        }
        // Checksum outside the lock so concurrent appenders do it in parallel.
        let checksum = CRC32C.checksum(payload)
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let rejection: EventLogError?
            let wake: Bool
            (rejection, wake) = self.state.withLock { state in
                if let rejection = state.rejection { return (rejection, false) }
                withUnsafeBytes(of: UInt32(truncatingIfNeeded: payload.count).littleEndian) {
                    state.batch.append(contentsOf: $0)
                }
                withUnsafeBytes(of: checksum.littleEndian) { state.batch.append(contentsOf: $0) }
                state.batch.append(contentsOf: payload)
                state.waiters.append(waiter)
                state.nextSequence += 1
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

    /// Appends `payloads` in order under one lock hold, so no other record lands between them, and returns the last
    /// one's sequence number once all are durable (they share their batches' syncs). Only the last record has a
    /// waiter: the writer resumes it after every earlier one is written.
    func appendAll(_ payloads: [[UInt8]]) async throws(EventLogError) -> UInt64? {
        guard !payloads.isEmpty else { return nil }
        var checksums: [UInt32] = []
        checksums.reserveCapacity(payloads.count)
        for payload in payloads {
            guard !payload.isEmpty else {
                throw EventLogError(code: .invalidArgument, message: "an event-log record cannot be empty")
            }
            guard payload.count <= self.maxRecordBytes else {
                throw EventLogError(
                    code: .recordTooLarge,
                    message: "record of \(payload.count) bytes exceeds the limit of \(self.maxRecordBytes) bytes")
            }
            checksums.append(CRC32C.checksum(payload))
        }
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let rejection: EventLogError?
            let wake: Bool
            (rejection, wake) = self.state.withLock { state in
                if let rejection = state.rejection { return (rejection, false) }
                for (index, payload) in payloads.enumerated() {
                    withUnsafeBytes(of: UInt32(truncatingIfNeeded: payload.count).littleEndian) {
                        state.batch.append(contentsOf: $0)
                    }
                    withUnsafeBytes(of: checksums[index].littleEndian) { state.batch.append(contentsOf: $0) }
                    state.batch.append(contentsOf: payload)
                    state.waiters.append(index == payloads.count - 1 ? waiter : nil)
                    state.nextSequence += 1
                }
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
    func takeWork(batch: inout [UInt8], waiters: inout [Waiter?]) -> Work {
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
        let stranded: [Waiter?] = self.state.withLock { state in
            if state.rejection == nil || state.rejection?.code == .closed {
                state.rejection = EventLogError(
                    code: .io, message: "the event log failed and refuses appends: \(error.message)")
            }
            var stranded: [Waiter?] = []
            swap(&state.waiters, &stranded)
            state.batch.removeAll()
            state.batchFirstSequence = state.nextSequence
            return stranded
        }
        for waiter in stranded { waiter?.resume(returning: .failure(error)) }
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
