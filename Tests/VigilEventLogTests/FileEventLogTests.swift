import Foundation
import Synchronization
import Testing
import VigilEventLog

@Suite(.timeLimit(.minutes(1)))
struct FileEventLogTests {
    // MARK: Round trips

    @Test func appendAndForEachRoundTrip() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            #expect(log.recovery == RecoveryReport(segments: 1, records: 0, truncatedBytes: 0))
            let payloads = (0..<20).map { Self.payload($0, size: 1 + $0 * 37) }
            for (index, payload) in payloads.enumerated() {
                #expect(try await log.append(payload) == UInt64(index))
            }
            let records = try Self.records(log)
            #expect(records.map(\.sequence) == Array(0..<20))
            #expect(records.map(\.payload) == payloads)
            await log.shutdown()
            try Self.expectSegment(Self.segment(directory, 0), holds: payloads.flatMap(Self.framed), size: 64 << 20)
        }
    }

    /// Records appended together get consecutive sequences, in order, among records appended one at a time
    /// concurrently; across a segment roll too; an empty record or one too large refuses the whole call, appending
    /// nothing.
    @Test func recordsAppendedTogetherAreConsecutiveAndInOrder() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 4096, maxRecordBytes: 1024)
            let together = (0..<200).map { Self.payload($0, size: 10 + $0 % 50) }
            let singles = (1000..<1050).map { Self.payload($0, size: 20) }
            let first = try await withThrowingTaskGroup(of: UInt64?.self) { group in
                group.addTask { try await log.append(contentsOf: together) }
                for payload in singles { group.addTask { _ = try await log.append(payload); return nil } }
                var first: UInt64?
                for try await value in group { if let value { first = value } }
                return first!
            }
            let records = try Self.records(log)
            #expect(records.count == together.count + singles.count)
            #expect(Array(records[Int(first)..<(Int(first) + together.count)].map(\.payload)) == together)
            #expect(Set(records.map(\.payload)) == Set(together + singles))
            await #expect(throws: EventLogError.self) { try await log.append(contentsOf: [Self.payload(1, size: 5), []]) }
            await #expect(throws: EventLogError.self) { try await log.append(contentsOf: [Self.payload(1, size: 5), Self.payload(2, size: 2000)]) }
            await #expect(throws: EventLogError.self) { try await log.append(contentsOf: []) }
            #expect(log.nextSequence == UInt64(together.count + singles.count))
            await log.shutdown()
            let reopened = try FileEventLog(directory: directory, segmentBytes: 4096, maxRecordBytes: 1024)
            #expect(try Self.records(reopened).map(\.payload) == records.map(\.payload))
            await reopened.shutdown()
        }
    }

    /// Records overwrite a pre-zeroed file in place, so a sync changes no file size.
    @Test func newSegmentIsFullSizeAndZeroedPastTheData() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            let path = Self.segment(directory, 0)
            try Self.expectSegment(path, holds: [], size: 64 << 20)
            let payloads = (0..<3).map { Self.payload($0, size: 100) }
            for payload in payloads { _ = try await log.append(payload) }
            // Checked while the log is open: the size is the same before and after the appends.
            try Self.expectSegment(path, holds: payloads.flatMap(Self.framed), size: 64 << 20)
            await log.shutdown()
            #expect(!FileManager.default.fileExists(atPath: directory + "/next.log.tmp"), "shutdown removes it")
        }
    }

    @Test func segmentRollUsesThePreparedFile() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            let prepared = directory + "/next.log.tmp"
            let first = try await Self.inode(waitingFor: prepared)
            // 38-byte records: the third starts segment 2.
            for index in 0..<3 { _ = try await log.append(Self.payload(index, size: 30)) }
            #expect(try Self.inode(Self.segment(directory, 2)) == first)
            try Self.expectSegment(Self.segment(directory, 2), holds: Self.framed(Self.payload(2, size: 30)), size: 100)
            // The roll asks for the next one at once.
            let second = try await Self.inode(waitingFor: prepared)
            #expect(second != first)
            for index in 3..<5 { _ = try await log.append(Self.payload(index, size: 30)) }
            #expect(try Self.inode(Self.segment(directory, 4)) == second)
            await log.shutdown()
            let reopened = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(reopened.recovery == RecoveryReport(segments: 3, records: 5, truncatedBytes: 0))
            #expect(try Self.records(reopened).map(\.payload) == (0..<5).map { Self.payload($0, size: 30) })
            await reopened.shutdown()
        }
    }

    /// Segments written before preallocation end with their last record. They open, are appended to
    /// (growing as before), and roll to preallocated segments.
    @Test func logWithoutZeroTailsOpensAndIsAppendedTo() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let payloads = (0..<6).map { Self.payload($0, size: 30) }
            try Self.write(payloads[0..<2].flatMap(Self.framed), to: Self.segment(directory, 0))
            try Self.write(Self.framed(payloads[2]), to: Self.segment(directory, 2))

            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(log.recovery == RecoveryReport(segments: 2, records: 3, truncatedBytes: 0))
            #expect(try Self.records(log).map(\.payload) == Array(payloads[0..<3]))
            for index in 3..<6 { #expect(try await log.append(payloads[index]) == UInt64(index)) }
            await log.shutdown()

            #expect(try Self.contents(Self.segment(directory, 0)) == payloads[0..<2].flatMap(Self.framed))
            #expect(try Self.contents(Self.segment(directory, 2)) == payloads[2..<4].flatMap(Self.framed))
            try Self.expectSegment(Self.segment(directory, 4), holds: payloads[4..<6].flatMap(Self.framed), size: 100)
            let reopened = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(reopened.recovery == RecoveryReport(segments: 3, records: 6, truncatedBytes: 0))
            #expect(try Self.records(reopened).map(\.payload) == payloads)
            #expect(try Self.readOnly(directory).map(\.payload) == payloads)
            await reopened.shutdown()
        }
    }

    @Test func reopenAfterShutdownSeesEverythingAndContinuesNumbering() async throws {
        try await withTemporaryDirectory { directory in
            let first = try FileEventLog(directory: directory)
            for index in 0..<5 { _ = try await first.append(Self.payload(index, size: 10)) }
            await first.shutdown()

            let second = try FileEventLog(directory: directory)
            #expect(second.recovery == RecoveryReport(segments: 1, records: 5, truncatedBytes: 0))
            #expect(try Self.records(second).map(\.payload) == (0..<5).map { Self.payload($0, size: 10) })
            #expect(try await second.append(Self.payload(5, size: 10)) == 5)
            await second.shutdown()

            let third = try FileEventLog(directory: directory)
            #expect(try Self.records(third).map(\.sequence) == Array(0..<6))
            await third.shutdown()
        }
    }

    @Test func rollsOverSegmentsAndReadsAcrossThem() async throws {
        try await withTemporaryDirectory { directory in
            // 30-byte payloads frame to 38 bytes, so two fit in 100 and the third starts a new segment.
            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            let payloads = (0..<11).map { Self.payload($0, size: 30) }
            for payload in payloads { _ = try await log.append(payload) }
            #expect(try Self.records(log).map(\.payload) == payloads)
            await log.shutdown()

            #expect(try Self.segmentNames(directory) == [0, 2, 4, 6, 8, 10].map(Self.segmentName))
            for first in [0, 2, 4, 6, 8] {
                let records = (first..<first + 2).map { Self.payload($0, size: 30) }
                try Self.expectSegment(Self.segment(directory, UInt64(first)), holds: records.flatMap(Self.framed), size: 100)
            }
            let reopened = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(reopened.recovery == RecoveryReport(segments: 6, records: 11, truncatedBytes: 0))
            #expect(try Self.records(reopened).map(\.payload) == payloads)
            #expect(try await reopened.append(Self.payload(11, size: 30)) == 11)
            await reopened.shutdown()
            #expect(try Self.segmentNames(directory).last == Self.segmentName(10))
        }
    }

    @Test func recordLargerThanSegmentGetsASegmentOfItsOwn() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 16)
            for index in 0..<3 { _ = try await log.append(Self.payload(index, size: 100)) }
            await log.shutdown()
            #expect(try Self.segmentNames(directory) == [0, 1, 2].map(Self.segmentName))
        }
    }

    // MARK: Recovery

    enum Tail: String, CaseIterable {
        case partialHeader, partialPayload, badChecksum, zeroLength, oversizedLength, zeroFill
    }

    @Test(arguments: Tail.allCases)
    func damagedTailOfLastSegmentIsTruncated(tail: Tail) async throws {
        try await withTemporaryDirectory { directory in
            let payloads = (0..<3).map { Self.payload($0, size: 50) }
            let log = try FileEventLog(directory: directory, maxRecordBytes: 1000)
            for payload in payloads { _ = try await log.append(payload) }
            await log.shutdown()

            let path = Self.segment(directory, 0)
            let good = payloads.flatMap(Self.framed)
            let damage: [UInt8]
            switch tail {
            case .partialHeader: damage = [7, 0, 0]
            case .partialPayload: damage = Array(Self.framed(Self.payload(9, size: 100)).prefix(60))
            case .badChecksum:
                var record = Self.framed(Self.payload(9, size: 40))
                record[20] ^= 0x01
                damage = record
            case .zeroLength: damage = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]
            // A garbage length above the maximum, running past the end of the file.
            case .oversizedLength: damage = Self.header(length: 0x0100_0000, checksum: 0) + Self.payload(9, size: 1001)
            case .zeroFill: damage = [UInt8](repeating: 0, count: 4096)
            }
            try Self.write(good + damage, to: path)

            let reopened = try FileEventLog(directory: directory, maxRecordBytes: 1000)
            #expect(reopened.recovery.records == 3)
            // Discarded up to the last non-zero byte; a zero fill is just a zero tail.
            let discarded = (damage.lastIndex { $0 != 0 }).map { $0 + 1 } ?? 0
            #expect(reopened.recovery.truncatedBytes == discarded)
            #expect(reopened.recovery.truncatedFile == (discarded > 0 ? path : nil))
            #expect(try Self.contents(path) == good + [UInt8](repeating: 0, count: damage.count), "zeroed, not cut")
            #expect(try Self.records(reopened).map(\.payload) == payloads)
            #expect(try await reopened.append(Self.payload(3, size: 50)) == 3)
            await reopened.shutdown()
            let all = (payloads + [Self.payload(3, size: 50)]).flatMap(Self.framed)
            try Self.expectSegment(path, holds: all, size: max(all.count, good.count + damage.count))
        }
    }

    enum PreallocatedTail: String, CaseIterable {
        /// A record cut short: its header and part of its payload reached the disk.
        case tornRecord
        /// A later page of an unsynced batch reached the disk and the page before it did not.
        case strayBytesAfterZeros
    }

    @Test(arguments: PreallocatedTail.allCases)
    func tornTailOfPreallocatedSegmentIsZeroedAndAppendsFollowTheLastGoodRecord(tail: PreallocatedTail) async throws {
        try await withTemporaryDirectory { directory in
            let payloads = (0..<3).map { Self.payload($0, size: 50) }
            let log = try FileEventLog(directory: directory, segmentBytes: 4096)
            for payload in payloads { _ = try await log.append(payload) }
            await log.shutdown()

            let path = Self.segment(directory, 0)
            let good = payloads.flatMap(Self.framed)
            var bytes = try Self.contents(path)
            #expect(bytes.count == 4096)
            let torn = Array(Self.framed(Self.payload(9, size: 100)).prefix(60))
            let at = tail == .tornRecord ? good.count : 3000
            bytes.replaceSubrange(at..<at + torn.count, with: torn)
            try Self.write(bytes, to: path)

            let reopened = try FileEventLog(directory: directory, segmentBytes: 4096)
            #expect(reopened.recovery == RecoveryReport(
                segments: 1, records: 3, truncatedBytes: at + torn.count - good.count, truncatedFile: path))
            try Self.expectSegment(path, holds: good, size: 4096)
            #expect(try await reopened.append(Self.payload(3, size: 50)) == 3)
            await reopened.shutdown()
            try Self.expectSegment(path, holds: good + Self.framed(Self.payload(3, size: 50)), size: 4096)
        }
    }

    /// What a lowered maxRecordBytes looks like: a whole record longer than allowed. Truncating it would
    /// lose acknowledged records, so opening fails and nothing changes.
    @Test func completeRecordAboveMaxRecordBytesIsNotTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let payloads = [Self.payload(0, size: 500), Self.payload(1, size: 1500), Self.payload(2, size: 10)]
            let log = try FileEventLog(directory: directory, maxRecordBytes: 2000)
            for payload in payloads { _ = try await log.append(payload) }
            await log.shutdown()
            let path = Self.segment(directory, 0)
            let before = try Self.data(path)

            let error = #expect(throws: EventLogError.self) { try FileEventLog(directory: directory, maxRecordBytes: 1000) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("maxRecordBytes") == true)
            #expect(error?.message.contains("byte offset 508") == true)
            #expect(try Self.data(path) == before)

            let reopened = try FileEventLog(directory: directory, maxRecordBytes: 2000)
            #expect(reopened.recovery.truncatedBytes == 0)
            #expect(try Self.records(reopened).map(\.payload) == payloads)
            await reopened.shutdown()
        }
    }

    @Test func checksumDamageInLastRecordDropsOnlyThatRecord() async throws {
        try await withTemporaryDirectory { directory in
            let payloads = (0..<4).map { Self.payload($0, size: 20) }
            let log = try FileEventLog(directory: directory)
            for payload in payloads { _ = try await log.append(payload) }
            await log.shutdown()

            let path = Self.segment(directory, 0)
            var bytes = try Self.contents(path)
            bytes[4 * 28 - 1] ^= 0x80
            try Self.write(bytes, to: path)

            let reopened = try FileEventLog(directory: directory)
            #expect(reopened.recovery == RecoveryReport(segments: 1, records: 3, truncatedBytes: 28, truncatedFile: path))
            #expect(try Self.records(reopened).map(\.payload) == Array(payloads.prefix(3)))
            await reopened.shutdown()
        }
    }

    enum EarlierDamage: String, CaseIterable {
        case badChecksum, zeroLength, oversizedLength, truncated

        var reason: String {
            switch self {
            case .badChecksum: "CRC-32C mismatch"
            case .zeroLength, .oversizedLength: "invalid record length"
            case .truncated: "incomplete payload"
            }
        }
    }

    @Test(arguments: EarlierDamage.allCases)
    func damageInAnEarlierSegmentIsReportedByWhatReadsIt(damage: EarlierDamage) async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            for index in 0..<6 { _ = try await log.append(Self.payload(index, size: 30)) }
            await log.shutdown()

            // The second record of segment 0 starts at byte 38.
            let path = Self.segment(directory, 0)
            var bytes = try Self.contents(path)
            switch damage {
            case .badChecksum: bytes[38 + 8 + 5] ^= 0x10
            case .zeroLength: bytes.replaceSubrange(38..<42, with: [0, 0, 0, 0])
            case .oversizedLength: bytes.replaceSubrange(38..<42, with: [1, 0, 0x10, 0])
            // The segment holds 76 bytes of records, then zeros up to 100.
            case .truncated: bytes.removeLast(100 - 76 + 3)
            }
            try Self.write(bytes, to: path)
            let before = try Self.contents(path)

            // The open reads only the last segment, so it succeeds; reading the damaged one reports it.
            let reopened = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(reopened.recovery.records == 6)
            let error = #expect(throws: EventLogError.self) { try reopened.forEach { _, _ in } }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("byte offset 38") == true)
            #expect(error?.message.contains(damage.reason) == true)
            // A read that starts past the damaged segment never opens it.
            var tail: [UInt64] = []
            try reopened.forEach(from: 2) { sequence, _ in tail.append(sequence) }
            #expect(tail == [2, 3, 4, 5])
            await reopened.shutdown()
            #expect(try Self.contents(path) == before, "an earlier segment must never be repaired")
            let readError = #expect(throws: EventLogError.self) { try FileEventLog.read(directory: directory) { _, _ in } }
            #expect(readError?.code == .corrupt)
            #expect(readError?.message.contains("byte offset 38") == true)
        }
    }

    /// A gap between segments is found by whatever reads across it; a log whose oldest segments are gone (retention)
    /// starts at its first segment.
    @Test func missingSegmentIsAnErrorWhenReadButMissingOldestSegmentsAreNot() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            for index in 0..<6 { _ = try await log.append(Self.payload(index, size: 30)) }
            await log.shutdown()
            try FileManager.default.removeItem(atPath: Self.segment(directory, 2))

            let gapped = try FileEventLog(directory: directory, segmentBytes: 100)
            let error = #expect(throws: EventLogError.self) { try gapped.forEach { _, _ in } }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("next segment starts at 4") == true)
            await gapped.shutdown()
            let readError = #expect(throws: EventLogError.self) { try FileEventLog.read(directory: directory) { _, _ in } }
            #expect(readError?.message.contains(Self.segmentName(4)) == true)

            try FileManager.default.removeItem(atPath: Self.segment(directory, 0))
            let trimmed = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(trimmed.firstSequence == 4)
            #expect(trimmed.recovery.firstSequence == 4)
            #expect(try Self.records(trimmed).map(\.sequence) == [4, 5])
            #expect(try await trimmed.append(Self.payload(6, size: 30)) == 6)
            await trimmed.shutdown()
            var read: [UInt64] = []
            try FileEventLog.read(directory: directory) { sequence, _ in read.append(sequence) }
            #expect(read == [4, 5, 6])
        }
    }

    // MARK: Retention

    @Test func removeSegmentsDeletesOnlyWholeClosedSegmentsOldestFirst() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 100)
            for index in 0..<7 { _ = try await log.append(Self.payload(index, size: 30)) }
            // Segments 0 (0–1), 2 (2–3), 4 (4–5) closed; 6 open.
            let closed = try log.closedSegments()
            #expect(closed.map(\.firstSequence) == [0, 2, 4])
            #expect(closed.map(\.endSequence) == [2, 4, 6])
            #expect(closed.allSatisfy { abs($0.modifiedAt - Int64(Date().timeIntervalSince1970)) < 600 })
            // 3 is inside segment 2: only segment 0 ends at or below it.
            #expect(try log.removeSegments(endingAtOrBelow: 3) == 1)
            #expect(!FileManager.default.fileExists(atPath: Self.segment(directory, 0)))
            #expect(log.firstSequence == 2)
            #expect(try Self.records(log).map(\.sequence) == [2, 3, 4, 5, 6])
            // The segment appends go to stays, whatever the bound.
            #expect(try log.removeSegments(endingAtOrBelow: 100) == 2)
            #expect(FileManager.default.fileExists(atPath: Self.segment(directory, 6)))
            #expect(try await log.append(Self.payload(7, size: 30)) == 7)
            #expect(try Self.records(log).map(\.sequence) == [6, 7])
            await log.shutdown()
            let reopened = try FileEventLog(directory: directory, segmentBytes: 100)
            #expect(reopened.firstSequence == 6)
            #expect(reopened.nextSequence == 8)
            await reopened.shutdown()
        }
    }

    // MARK: Concurrency and durability

    @Test(arguments: Durability.allCases)
    func concurrentAppendsAreEachPresentOnceWithDenseSequences(durability: Durability) async throws {
        try await withTemporaryDirectory { directory in
            let synced = Mutex((syncs: 0, records: 0))
            let log = try FileEventLog(directory: directory, durability: durability, segmentBytes: 4096) {
                _, records in synced.withLock { $0.syncs += 1; $0.records += records }
            }
            let count = 1000
            let assigned = try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
                for index in 0..<count {
                    group.addTask { (index, try await log.append(Self.payload(index, size: 16 + index % 200))) }
                }
                var assigned: [Int: UInt64] = [:]
                for try await (index, sequence) in group { assigned[index] = sequence }
                return assigned
            }
            #expect(assigned.count == count)
            #expect(Set(assigned.values) == Set(0..<UInt64(count)))

            let records = try Self.records(log)
            #expect(records.map(\.sequence) == Array(0..<UInt64(count)))
            for (index, sequence) in assigned {
                #expect(records[Int(sequence)].payload == Self.payload(index, size: 16 + index % 200))
            }
            await log.shutdown()
            let total = synced.withLock { $0 }
            #expect(total.records == count)
            #expect(total.syncs >= 1)
            if durability == .fsync {
                #expect(total.syncs < count, "appends that arrive together must share a sync")
            }

            let reopened = try FileEventLog(directory: directory, segmentBytes: 4096)
            #expect(reopened.recovery.records == UInt64(count))
            #expect(reopened.recovery.segments > 1)
            #expect(try Self.records(reopened).map(\.payload) == records.map(\.payload))
            await reopened.shutdown()
        }
    }

    @Test func asyncDurabilitySyncsInTheBackground() async throws {
        try await withTemporaryDirectory { directory in
            let synced = Mutex(0)
            let log = try FileEventLog(directory: directory, durability: .async) { _, records in
                synced.withLock { $0 += records }
            }
            #expect(log.durability == .async)
            for index in 0..<10 { #expect(try await log.append(Self.payload(index, size: 8)) == UInt64(index)) }
            // Without a shutdown, the periodic sync (every ~50 ms) must still run.
            let deadline = ContinuousClock.now + .seconds(5)
            while synced.withLock({ $0 }) < 10 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(synced.withLock { $0 } == 10)
            #expect(try Self.records(log).count == 10)
            // Written well inside the sync interval, so only shutdown's final sync covers it.
            _ = try await log.append(Self.payload(10, size: 8))
            await log.shutdown()
            #expect(synced.withLock { $0 } == 11)
            let reopened = try FileEventLog(directory: directory)
            #expect(reopened.recovery.records == 11)
            await reopened.shutdown()
        }
    }

    @Test func onSyncReportsEachFsyncBatch() async throws {
        try await withTemporaryDirectory { directory in
            let batches = Mutex<[Int]>([])
            let log = try FileEventLog(directory: directory) { seconds, records in
                precondition(seconds >= 0)
                batches.withLock { $0.append(records) }
            }
            for index in 0..<3 { _ = try await log.append(Self.payload(index, size: 8)) }
            #expect(batches.withLock { $0 } == [1, 1, 1])
            await log.shutdown()
            #expect(batches.withLock { $0 } == [1, 1, 1])
        }
    }

    /// A segment that is really `/dev/full` makes every write fail with ENOSPC.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func failedWriteFailsTheBatchAndStopsTheLog() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: Self.segment(directory, 0), withDestinationPath: "/dev/full")
            let log = try FileEventLog(directory: directory)
            let codes = await withTaskGroup(of: EventLogError.Code?.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        do throws(EventLogError) {
                            _ = try await log.append(Self.payload(index, size: 32))
                            return nil
                        } catch {
                            return error.code
                        }
                    }
                }
                var codes: [EventLogError.Code?] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(codes.count == 50)
            #expect(codes.allSatisfy { $0 == .io })
            let later = await #expect(throws: EventLogError.self) { try await log.append([1]) }
            #expect(later?.code == .io)
            #expect(later?.message.contains("refuses appends") == true)
            await log.shutdown()
            let closed = await #expect(throws: EventLogError.self) { try await log.append([1]) }
            #expect(closed?.code == .io, "the failure is kept as the reason after shutdown")
        }
    }

    // MARK: Lifecycle and limits

    @Test func secondOpenOfTheSameDirectoryIsLocked() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            let error = #expect(throws: EventLogError.self) { try FileEventLog(directory: directory) }
            #expect(error?.code == .locked)
            #expect(error?.message.contains(directory + "/LOCK") == true)
            #expect(error?.message.contains("pid \(ProcessInfo.processInfo.processIdentifier)") == true)
            _ = try await log.append([1])
            await log.shutdown()

            let reopened = try FileEventLog(directory: directory)
            #expect(reopened.recovery.records == 1)
            await reopened.shutdown()
        }
    }

    @Test func appendAfterShutdownIsClosed() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            _ = try await log.append([1, 2, 3])
            await log.shutdown()
            await log.shutdown()
            let error = await #expect(throws: EventLogError.self) { try await log.append([4]) }
            #expect(error?.code == .closed)
            #expect(try Self.records(log).map(\.payload) == [[1, 2, 3]])
        }
    }

    @Test func shutdownWritesEverythingPending() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, durability: .async)
            let results = await withTaskGroup(of: Result<UInt64, EventLogError>.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do throws(EventLogError) { return .success(try await log.append(Self.payload(index, size: 64))) }
                        catch { return .failure(error) }
                    }
                }
                group.addTask { await log.shutdown(); return .success(.max) }
                var results: [Result<UInt64, EventLogError>] = []
                for await result in group { results.append(result) }
                return results
            }
            let appended = results.compactMap { try? $0.get() }.filter { $0 != .max }
            let refused = results.compactMap { result -> EventLogError.Code? in
                if case .failure(let error) = result { return error.code }
                return nil
            }
            #expect(appended.count + refused.count == 200)
            #expect(refused.allSatisfy { $0 == .closed })
            let reopened = try FileEventLog(directory: directory)
            #expect(reopened.recovery.records == UInt64(appended.count))
            #expect(Set(appended) == Set(0..<UInt64(appended.count)))
            await reopened.shutdown()
        }
    }

    @Test func recordSizeLimits() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, maxRecordBytes: 64)
            let tooLarge = await #expect(throws: EventLogError.self) { try await log.append(Self.payload(0, size: 65)) }
            #expect(tooLarge?.code == .recordTooLarge)
            let empty = await #expect(throws: EventLogError.self) { try await log.append([]) }
            #expect(empty?.code == .invalidArgument)
            #expect(try await log.append(Self.payload(1, size: 64)) == 0)
            await log.shutdown()
            try Self.expectSegment(Self.segment(directory, 0), holds: Self.framed(Self.payload(1, size: 64)), size: 64 << 20)
        }
    }

    @Test func invalidConfigurationIsRejected() async throws {
        try await withTemporaryDirectory { directory in
            let segment = #expect(throws: EventLogError.self) { try FileEventLog(directory: directory, segmentBytes: 0) }
            #expect(segment?.code == .invalidArgument)
            let record = #expect(throws: EventLogError.self) { try FileEventLog(directory: directory, maxRecordBytes: 0) }
            #expect(record?.code == .invalidArgument)
        }
    }

    // MARK: Read-only reader

    @Test func readOnlyReaderMatchesForEachAndRepairsNothing() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory, segmentBytes: 200)
            for index in 0..<25 { _ = try await log.append(Self.payload(index, size: 10 + index)) }
            let live = try Self.records(log)
            // The reader takes no lock, so it works while the log is open.
            #expect(try Self.readOnly(directory).map(\.payload) == live.map(\.payload))
            await log.shutdown()

            let offline = try Self.readOnly(directory)
            #expect(offline.map(\.sequence) == live.map(\.sequence))
            #expect(offline.map(\.payload) == live.map(\.payload))

            let last = try #require(try Self.segmentNames(directory).last)
            let path = directory + "/" + last
            var torn = try Self.contents(path)
            let end = Self.dataBytes(torn)
            torn.replaceSubrange(end..<min(end + 5, torn.count), with: [9, 0, 0, 0, 1])
            try Self.write(torn, to: path)
            #expect(try Self.readOnly(directory).map(\.payload) == live.map(\.payload))
            #expect(try Self.contents(path) == torn, "the reader must not truncate")
        }
    }

    @Test func readOnlyReaderOfAMissingDirectoryFails() {
        let error = #expect(throws: EventLogError.self) {
            try FileEventLog.read(directory: "/nonexistent/vigil-eventlog") { _, _ in }
        }
        #expect(error?.code == .io)
    }

    // MARK: Helpers

    static func payload(_ index: Int, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &* 131 &+ $0 &* 7 &+ 1) }
    }

    static func header(length: UInt32, checksum: UInt32) -> [UInt8] {
        withUnsafeBytes(of: length.littleEndian, Array.init) + withUnsafeBytes(of: checksum.littleEndian, Array.init)
    }

    /// The on-disk form of one record, built independently of the writer.
    static func framed(_ payload: [UInt8]) -> [UInt8] {
        self.header(length: UInt32(payload.count), checksum: CRC32C.checksum(payload)) + payload
    }

    static func segmentName(_ first: Int) -> String {
        String(repeating: "0", count: 20 - String(first).count) + String(first) + ".log"
    }

    static func segment(_ directory: String, _ first: UInt64) -> String {
        directory + "/" + self.segmentName(Int(first))
    }

    static func segmentNames(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
    }

    static func contents(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Where the records in a segment's bytes end, by walking the length fields to the first zero one.
    static func dataBytes(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
            if length == 0 { break }
            offset += 8 + length
        }
        return offset
    }

    /// Expects the segment file at `path` to be `size` bytes: `records`, then zeros.
    static func expectSegment(
        _ path: String, holds records: [UInt8], size: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        // Compared as `Data`, whose `==` is fast in a debug build; segments are 64 MiB by default.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count == size, sourceLocation: sourceLocation)
        #expect(bytes.prefix(records.count) == Data(records), sourceLocation: sourceLocation)
        #expect(
            bytes.dropFirst(records.count) == Data(count: max(0, bytes.count - records.count)),
            "zeros past the records", sourceLocation: sourceLocation)
    }

    static func inode(_ path: String) throws -> UInt64 {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
    }

    /// The inode of `path` once the writer's background preparation has created it.
    static func inode(waitingFor path: String) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: path) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return try self.inode(path)
    }

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func records(_ log: FileEventLog) throws -> [(sequence: UInt64, payload: [UInt8])] {
        var records: [(sequence: UInt64, payload: [UInt8])] = []
        try log.forEach { records.append(($0, $1)) }
        return records
    }

    static func readOnly(_ directory: String) throws -> [(sequence: UInt64, payload: [UInt8])] {
        var records: [(sequence: UInt64, payload: [UInt8])] = []
        try FileEventLog.read(directory: directory) { records.append(($0, $1)) }
        return records
    }
}
