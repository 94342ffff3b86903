import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import VigilEventLog
import VigilProtection
@testable import VigilServer

struct EventLogMonitorTests {
    static func state() throws -> ServerState {
        let directory = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keys = try KeyRing.open(directory: directory, provider: FileKeyProvider(path: directory + "/master.key"))
        let state = ServerState(tenants: .empty, keys: keys)
        state.markReady()
        return state
    }

    @Test func aFailedLogMakesTheNodeUnreadyLogsOnceSummarisesAndStops() async throws {
        let log = InMemoryEventLog()
        let state = try Self.state()
        let metrics = ServerMetrics()
        metrics.setReady(true)
        let failStop = FailStop()
        let logs = LogCapture()
        var monitor = EventLogMonitor(
            log: log, state: state, metrics: metrics, failStop: failStop, exitDelay: .milliseconds(300), logger: logs.logger()
        )
        monitor.pollInterval = .milliseconds(10)
        monitor.summaryInterval = .milliseconds(100)

        let running = monitor
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await running.run() }
            #expect(state.isReady)
            log.fail(with: EventLogError(code: .io, message: "pwrite of /data/events/00000000000000000000.log: No space left on device"))
            // What the responder does for each payment the log refuses.
            for _ in 0..<500 { state.unacknowledged.add(1, ordering: .relaxed) }
            while !failStop.hasStopped { try await Task.sleep(for: .milliseconds(10)) }
            group.cancelAll()
        }

        #expect(!state.isReady)
        #expect(state.hasEventLogFailed)
        #expect(metrics.text(featureKeys: (0, 0, 0), duplicateEntries: 0).contains("vigil_ready 0"))
        let lines = logs.lines.withLock { $0 }
        #expect(lines.filter { $0.contains("The event log failed") }.count == 1)
        #expect(lines.first { $0.contains("The event log failed") }?.hasPrefix("critical") == true)
        // 500 refusals, a handful of lines: the summary carries the count.
        let summaries = lines.filter { $0.contains("Payments refused since the event log failed") }
        #expect(!summaries.isEmpty && summaries.count < 10)
        #expect(summaries.first?.contains("500") == true)
        #expect(lines.count < 15)
    }

    @Test func aHealthyLogLeavesTheNodeReady() async throws {
        let log = InMemoryEventLog()
        let state = try Self.state()
        let failStop = FailStop()
        var monitor = EventLogMonitor(
            log: log, state: state, metrics: ServerMetrics(), failStop: failStop, exitDelay: .zero, logger: LogCapture().logger()
        )
        monitor.pollInterval = .milliseconds(10)
        let running = monitor
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await running.run() }
            try await Task.sleep(for: .milliseconds(100))
            group.cancelAll()
        }
        #expect(state.isReady)
        #expect(!failStop.hasStopped)
    }
}
