import Synchronization

/// An ``EventLog`` that keeps records in memory, for tests of code that appends.
public final class InMemoryEventLog: EventLog {
    private struct State {
        var records: [[UInt8]] = []
        var closed = false
        var failure: EventLogError?
    }

    private let state = Mutex(State())
    public let maxRecordBytes: Int

    public init(maxRecordBytes: Int = 1 << 20) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// Every record appended so far, in sequence order.
    public var records: [[UInt8]] {
        self.state.withLock { $0.records }
    }

    public func append(_ payload: [UInt8]) async throws(EventLogError) -> UInt64 {
        guard !payload.isEmpty else {
            throw EventLogError(code: .invalidArgument, message: "an event-log record cannot be empty")
        }
        guard payload.count <= self.maxRecordBytes else {
            throw EventLogError(
                code: .recordTooLarge,
                message: "record of \(payload.count) bytes exceeds the limit of \(self.maxRecordBytes) bytes")
        }
        return try self.state.withLock { state throws(EventLogError) in
            if let failure = state.failure { throw failure }
            guard !state.closed else { throw EventLogError(code: .closed, message: "the event log is shut down") }
            state.records.append(payload)
            return UInt64(state.records.count - 1)
        }
    }

    public var failure: EventLogError? {
        self.state.withLock { $0.failure }
    }

    /// Makes every later append fail with `error`, as a file log does after a failed write or sync.
    public func fail(with error: EventLogError) {
        self.state.withLock { $0.failure = error }
    }

    public func shutdown() async {
        self.state.withLock { $0.closed = true }
    }
}
