import Testing
import VigilEventLog

struct InMemoryEventLogTests {
    @Test func appendsInOrderAndRefusesAfterShutdown() async throws {
        let log = InMemoryEventLog(maxRecordBytes: 4)
        #expect(try await log.append([1]) == 0)
        #expect(try await log.append([2, 3]) == 1)
        #expect(log.records == [[1], [2, 3]])
        let tooLarge = await #expect(throws: EventLogError.self) { try await log.append([1, 2, 3, 4, 5]) }
        #expect(tooLarge?.code == .recordTooLarge)
        await log.shutdown()
        let closed = await #expect(throws: EventLogError.self) { try await log.append([4]) }
        #expect(closed?.code == .closed)
    }
}
