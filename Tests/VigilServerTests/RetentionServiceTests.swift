import Foundation
import Logging
import Synchronization
import Testing
import VigilEventLog
import VigilServer

/// Event-log retention: a segment goes only when it is older than the retention, covered by a snapshot and (with a
/// stream) shipped. The clock is injected; nothing waits.
@Suite(.timeLimit(.minutes(1)))
struct RetentionServiceTests {
    static let day: Int64 = 86_400

    static func segments(_ ends: [UInt64], modifiedAt: [Int64]) -> [FileEventLog.ClosedSegment] {
        var first: UInt64 = 0
        return zip(ends, modifiedAt).map { end, at in
            defer { first = end }
            return FileEventLog.ClosedSegment(firstSequence: first, endSequence: end, modifiedAt: at)
        }
    }

    // Three segments ending at 100, 200, 300, last written on days 1, 2 and 3; now is day 40, retention 35 days.
    let closed = Self.segments([100, 200, 300], modifiedAt: [1 * day, 2 * day, 3 * day])
    let now = 40 * day
    let retention = 35 * day

    @Test func allConditionsHoldingDeletesTheWholeRun() {
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: 300, shipped: nil) == 300)
    }

    @Test func aSegmentYoungerThanTheRetentionStays() {
        // Day 4 + 35 = day 39 < 40, but day 6 + 35 = 41 > 40: only the first two are old enough.
        let mixed = Self.segments([100, 200, 300], modifiedAt: [4 * Self.day, 5 * Self.day, 6 * Self.day])
        #expect(RetentionService.removableEnd(mixed, now: now, retentionSeconds: retention, covered: 300, shipped: nil) == 200)
        #expect(RetentionService.removableEnd(closed, now: 37 * Self.day - 1, retentionSeconds: retention, covered: 300, shipped: nil) == 100)
        #expect(RetentionService.removableEnd(closed, now: 30 * Self.day, retentionSeconds: retention, covered: 300, shipped: nil) == nil)
    }

    @Test func aSegmentNotWhollyBelowTheSnapshotStays() {
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: 250, shipped: nil) == 200)
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: 99, shipped: nil) == nil)
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: nil, shipped: nil) == nil, "no snapshot")
    }

    @Test func aSegmentNotWhollyShippedStaysWhenAStreamIsConfigured() {
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: 300, shipped: 150) == 100)
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: retention, covered: 300, shipped: 0) == nil)
    }

    @Test func zeroRetentionKeepsEverything() {
        #expect(RetentionService.removableEnd(closed, now: now, retentionSeconds: 0, covered: 300, shipped: nil) == nil)
    }

    /// On a real log: only once the clock passes the retention, a snapshot covers and the stream has shipped does a
    /// segment file go; the log then starts at the next segment, also after a reopen.
    @Test func sweepDeletesSegmentFilesOnlyWhenAllThreeHold() async throws {
        let dir = temporaryDataDirectory()
        let log = try FileEventLog(directory: dir, segmentBytes: 100)
        for index in 0..<7 { _ = try await log.append([UInt8](repeating: UInt8(index + 1), count: 30)) }
        // Segments 0, 2, 4 closed; 6 open.
        let clock = Clock()
        let box = Boxes()
        let service = RetentionService(
            log: log, retentionSeconds: 35 * Self.day, covered: { box.covered.withLock { $0 } },
            shipped: { box.shipped.withLock { $0 } }, now: { clock.now.withLock { $0 } }, logger: Logger(label: "test"))
        let written = try log.closedSegments().map(\.modifiedAt).max()!

        clock.now.withLock { $0 = written + 36 * Self.day }
        #expect(try service.sweep() == 0, "no snapshot yet")
        box.covered.withLock { $0 = 4 }
        #expect(try service.sweep() == 0, "nothing shipped yet")
        box.shipped.withLock { $0 = 2 }
        clock.now.withLock { $0 = written + 34 * Self.day }
        #expect(try service.sweep() == 0, "too young")
        clock.now.withLock { $0 = written + 36 * Self.day }
        #expect(try service.sweep() == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/00000000000000000000.log"))
        #expect(FileManager.default.fileExists(atPath: dir + "/00000000000000000002.log"))
        #expect(log.firstSequence == 2)
        box.shipped.withLock { $0 = nil }
        #expect(try service.sweep() == 1, "no stream: shipping does not hold it back; the snapshot at 4 does")
        #expect(log.firstSequence == 4)
        await log.shutdown()
        var read: [UInt64] = []
        try FileEventLog.read(directory: dir) { sequence, _ in read.append(sequence) }
        #expect(read == [4, 5, 6])
    }

    final class Clock: Sendable {
        let now = Mutex<Int64>(0)
    }

    final class Boxes: Sendable {
        let covered = Mutex<UInt64?>(nil)
        /// A stream is configured and has shipped nothing yet.
        let shipped = Mutex<UInt64?>(0)
    }
}
