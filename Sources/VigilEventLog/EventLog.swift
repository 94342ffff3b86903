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

    /// Appends records in order, none of anyone else's between them, and returns the last one's sequence number
    /// (nil for none) once all are durable: a bulk load's records share their syncs instead of waiting one by one.
    /// - Throws: as ``append(_:)``; when it throws, the records before the failing one may be in the log.
    func appendAll(_ payloads: [[UInt8]]) async throws(EventLogError) -> UInt64?

    /// Why the log refuses every append for good (a write or sync failed), or nil while it can append.
    var failure: EventLogError? { get }

    /// Stops accepting appends, writes and syncs everything pending, resumes all waiters and closes files.
    ///
    /// Calling it again, or concurrently, waits for the same shutdown.
    func shutdown() async
}

extension EventLog {
    /// One ``append(_:)`` after another: correct for any log, and what a log without a bulk path does.
    public func appendAll(_ payloads: [[UInt8]]) async throws(EventLogError) -> UInt64? {
        var last: UInt64?
        for payload in payloads { last = try await append(payload) }
        return last
    }
}
