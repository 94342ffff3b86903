/// Something that can durably append opaque records and hand back their sequence numbers.
///
/// Callers acknowledge work only after ``append(_:)`` returns, so an implementation must not return
/// before the record is as durable as it promises.
public protocol EventLog: Sendable {
    /// Appends one record.
    ///
    /// Once enqueued, a record is written even if the calling task is cancelled.
    /// - Returns: The record's sequence number: 0-based, dense, in log order. It is returned once the
    ///   record is durable as configured.
    /// - Throws: ``EventLogError`` with `.closed` after shutdown, `.recordTooLarge` or `.invalidArgument`
    ///   for a payload the log cannot hold, `.io` when the log has failed.
    func append(_ payload: [UInt8]) async throws(EventLogError) -> UInt64

    /// Appends several records in order, as durable as one append when it returns (the file log writes and syncs
    /// them together). Returns the first record's sequence; the others follow it.
    func append(contentsOf payloads: [[UInt8]]) async throws(EventLogError) -> UInt64

    /// Why the log refuses every append for good (a write or sync failed), or nil while it can append.
    var failure: EventLogError? { get }

    /// Stops accepting appends, writes and syncs everything pending, resumes all waiters and closes files.
    ///
    /// Calling it again, or concurrently, waits for the same shutdown.
    func shutdown() async
}

extension EventLog {
    /// One after another, each awaited: for logs with nothing better.
    public func append(contentsOf payloads: [[UInt8]]) async throws(EventLogError) -> UInt64 {
        guard let first = payloads.first else {
            throw EventLogError(code: .invalidArgument, message: "append(contentsOf:) needs at least one record")
        }
        let sequence = try await append(first)
        for payload in payloads.dropFirst() { _ = try await append(payload) }
        return sequence
    }
}
