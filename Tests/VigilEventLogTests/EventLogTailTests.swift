import Testing
import VigilEventLog

@Suite(.timeLimit(.minutes(1)))
struct EventLogTailTests {
    private static func payload(_ index: Int, size: Int = 100) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &+ $0 &+ 1) }
    }

    @Test("reads records in batches from a position, then only what was appended since")
    func readsOnAsTheLogGrows() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            for index in 0..<10 { _ = try await log.append(Self.payload(index)) }
            var tail = log.tail(from: 3)
            let first = try tail.read(maxRecords: 4)
            #expect(first.map(\.sequence) == [3, 4, 5, 6])
            #expect(first.map(\.payload) == (3..<7).map { Self.payload($0) })
            #expect(try tail.read(maxRecords: 100).map(\.sequence) == [7, 8, 9])
            #expect(try tail.read(maxRecords: 100).isEmpty)
            for index in 10..<12 { _ = try await log.append(Self.payload(index)) }
            let more = try tail.read(maxRecords: 100)
            #expect(more.map(\.sequence) == [10, 11])
            #expect(more.map(\.payload) == [Self.payload(10), Self.payload(11)])
            #expect(tail.nextSequence == 12)
            #expect(log.appendedRecords == 12)
            await log.shutdown()
        }
    }

    @Test("follows the log across segments and stops a batch at the byte budget")
    func crossesSegments() async throws {
        try await withTemporaryDirectory { directory in
            // 1,000-byte segments hold nine 100-byte records each.
            let log = try FileEventLog(directory: directory, segmentBytes: 1000)
            for index in 0..<30 { _ = try await log.append(Self.payload(index)) }
            var tail = log.tail(from: 8)
            var read: [(sequence: UInt64, payload: [UInt8])] = []
            while true {
                let batch = try tail.read(maxRecords: 100, maxBytes: 250)
                if batch.isEmpty { break }
                #expect(batch.count <= 3)
                read += batch
            }
            #expect(read.map(\.sequence) == Array(8..<30))
            #expect(read.map(\.payload) == (8..<30).map { Self.payload($0) })
            await log.shutdown()
        }
    }

    @Test("a reopened log is read on from a position inside a segment")
    func resumesAfterReopen() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let log = try FileEventLog(directory: directory)
                for index in 0..<5 { _ = try await log.append(Self.payload(index, size: 10 + index)) }
                await log.shutdown()
            }
            let log = try FileEventLog(directory: directory)
            var tail = log.tail(from: 2)
            #expect(try tail.read(maxRecords: 10).map(\.payload) == (2..<5).map { Self.payload($0, size: 10 + $0) })
            await log.shutdown()
        }
    }

    @Test("a position past the end of the durable log is refused")
    func refusesPositionPastTheEnd() async throws {
        try await withTemporaryDirectory { directory in
            let log = try FileEventLog(directory: directory)
            for index in 0..<3 { _ = try await log.append(Self.payload(index)) }
            var tail = log.tail(from: 5)
            let error = #expect(throws: EventLogError.self) { try tail.read(maxRecords: 10) }
            #expect(error?.code == .invalidArgument)
            await log.shutdown()
        }
    }
}
