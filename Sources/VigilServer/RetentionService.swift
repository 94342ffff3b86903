import Foundation
public import Logging
public import ServiceLifecycle
public import VigilEventLog

/// Deletes event-log segments past `eventRetentionDays`.
///
/// A closed segment goes only when all three hold: (a) its file was last written (its newest record appended) more
/// than the retention ago, by its modification time; (b) it ends at or below the sequence the kept snapshots
/// cover (``StateSnapshots/coveredSequence()``); (c) when a stream is configured, it ends at or below the shipped
/// sequence. Segments go oldest first and only as a run from the start, so the log stays contiguous.
public struct RetentionService: Service {
    public let log: FileEventLog
    public let retentionSeconds: Int64
    /// The sequence below which a snapshot covers the log; nil when none does (nothing is deleted).
    public let covered: @Sendable () -> UInt64?
    /// The sequence below which every record is shipped to the stream; nil when no stream is configured.
    public let shipped: @Sendable () -> UInt64?
    /// Now, in seconds since the epoch.
    public let now: @Sendable () -> Int64
    public let every: Duration
    public let logger: Logger

    public init(
        log: FileEventLog, retentionSeconds: Int64, covered: @escaping @Sendable () -> UInt64?, shipped: @escaping @Sendable () -> UInt64?,
        now: (@Sendable () -> Int64)? = nil, every: Duration = .seconds(60), logger: Logger
    ) {
        self.log = log
        self.retentionSeconds = retentionSeconds
        self.covered = covered
        self.shipped = shipped
        self.now = now ?? { Int64(Date().timeIntervalSince1970) }
        self.every = every
        self.logger = logger
    }

    /// The end of the run of oldest segments that may go, or nil when none may.
    public static func removableEnd(
        _ segments: [FileEventLog.ClosedSegment], now: Int64, retentionSeconds: Int64, covered: UInt64?, shipped: UInt64?
    ) -> UInt64? {
        guard retentionSeconds > 0, let covered else { return nil }
        var end: UInt64?
        for segment in segments {
            guard segment.modifiedAt <= now - retentionSeconds, segment.endSequence <= covered,
                shipped.map({ segment.endSequence <= $0 }) ?? true
            else { break }
            end = segment.endSequence
        }
        return end
    }

    /// Deletes what may go now. - Returns: the segments deleted.
    @discardableResult
    public func sweep() throws -> Int {
        guard let end = Self.removableEnd(
            try log.closedSegments(), now: now(), retentionSeconds: retentionSeconds, covered: covered(), shipped: shipped())
        else { return 0 }
        let removed = try log.removeSegments(endingAtOrBelow: end)
        if removed > 0 {
            logger.notice("Deleted event-log segments past retention", metadata: ["vigil.retention.segments": "\(removed)", "vigil.retention.first": "\(end)"])
        }
        return removed
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let service = self
            do {
                _ = try await blocking { try service.sweep() }
            } catch {
                logger.error("Could not delete event-log segments past retention", metadata: ["vigil.error": "\(error)"])
            }
        }
    }
}
