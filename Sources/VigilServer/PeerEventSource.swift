import Synchronization

/// The peer region's stream of event-log records, as this region reads it (docs/regions.md): each record is the
/// JSON `vigil events export` prints (`EventCoding`), in the order the peer logged it, delivered at least once.
///
/// The Kafka implementation (the `vigil` executable's, over the `VigilKafka` consumer) reads the peer region's
/// topic; ``InMemoryPeerEventSource`` serves tests.
public protocol PeerEventSource: Sendable {
    /// The next records, after those handed out before. Waits a bounded time (about a second at most) for some, and
    /// returns an empty batch when none came.
    func next() async throws -> [[UInt8]]
    /// Marks every record handed out so far as folded: after a restart, reading resumes after them. Records handed
    /// out but not committed may come again.
    func commit() async throws
}

/// A peer stream in memory: what a test appends is handed out in order; ``redeliver()`` hands out again everything
/// not committed, as a consumer restarted after a crash would.
public final class InMemoryPeerEventSource: PeerEventSource {
    struct Position {
        var records: [[UInt8]] = []
        var delivered = 0
        var committed = 0
    }

    let position = Mutex(Position())
    /// At most this many records per batch.
    public let batchSize: Int

    public init(batchSize: Int = 256) {
        self.batchSize = batchSize
    }

    /// Adds records to the stream's end.
    public func append(_ records: [[UInt8]]) { position.withLock { $0.records += records } }

    /// Hands out again every record not committed.
    public func redeliver() { position.withLock { $0.delivered = $0.committed } }

    /// Records handed out, and records committed.
    public var offsets: (delivered: Int, committed: Int) { position.withLock { ($0.delivered, $0.committed) } }

    public func next() async throws -> [[UInt8]] {
        let batch = position.withLock { position in
            let end = min(position.records.count, position.delivered + batchSize)
            defer { position.delivered = end }
            return Array(position.records[position.delivered..<end])
        }
        if batch.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        return batch
    }

    public func commit() async throws { position.withLock { $0.committed = $0.delivered } }
}
