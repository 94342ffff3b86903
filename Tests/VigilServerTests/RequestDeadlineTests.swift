import Foundation
import Testing
@testable import VigilServer

struct RequestDeadlineTests {
    static let limits = ConnectionLimits(headerTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60), maxConnections: 8)

    @Test func aNewConnectionOwesItsHeadWithinTheHeaderTimeout() {
        var deadline = RequestDeadline(limits: Self.limits)
        #expect(deadline.connected() == .schedule(.seconds(10)))
        #expect(deadline.phase == .head)
        #expect(deadline.closesWhenDue)
    }

    @Test func theBodyIsDueWithinTheBodyTimeoutOfTheHead() {
        var deadline = RequestDeadline(limits: Self.limits)
        _ = deadline.connected()
        #expect(deadline.receivedHead() == .schedule(.seconds(30)))
        #expect(deadline.phase == .body)
        #expect(deadline.closesWhenDue)
    }

    @Test func noDeadlineRunsWhileTheServerOwesTheResponse() {
        var deadline = RequestDeadline(limits: Self.limits)
        _ = deadline.connected()
        _ = deadline.receivedHead()
        #expect(deadline.receivedEnd() == .cancel)
        #expect(deadline.phase == .responding)
        #expect(!deadline.closesWhenDue)
    }

    @Test func anIdleKeptAliveConnectionIsDueWithinTheIdleTimeout() {
        var deadline = RequestDeadline(limits: Self.limits)
        _ = deadline.connected()
        _ = deadline.receivedHead()
        _ = deadline.receivedEnd()
        #expect(deadline.sentEnd() == .schedule(.seconds(60)))
        #expect(deadline.phase == .idle)
        #expect(deadline.closesWhenDue)
        // The next request restarts the cycle with its body deadline.
        #expect(deadline.receivedHead() == .schedule(.seconds(30)))
    }

    @Test func pipelinedRequestsGoIdleOnlyAfterTheLastResponse() {
        var deadline = RequestDeadline(limits: Self.limits)
        _ = deadline.connected()
        _ = deadline.receivedHead()
        _ = deadline.receivedEnd()
        _ = deadline.receivedHead()
        _ = deadline.receivedEnd()
        #expect(deadline.responsesOwed == 2)
        #expect(deadline.sentEnd() == .none)
        #expect(deadline.phase == .responding)
        #expect(deadline.sentEnd() == .schedule(.seconds(60)))
    }

    @Test func anEarlyResponseLeavesTheBodyDeadlineRunning() {
        // A 401 written before the body was read must not excuse a client that never sends the body.
        var deadline = RequestDeadline(limits: Self.limits)
        _ = deadline.connected()
        _ = deadline.receivedHead()
        #expect(deadline.sentEnd() == .none)
        #expect(deadline.phase == .body)
        #expect(deadline.closesWhenDue)
    }
}

struct ConnectionLimitsConfigurationTests {
    @Test func defaultsAreTenThirtySixtySecondsAndAThousandConnections() {
        let limits = ConnectionLimits(VigilConfiguration())
        #expect(limits == ConnectionLimits(headerTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60), maxConnections: 1000))
    }

    @Test func theEnvironmentSetsEachLimit() throws {
        var configuration = VigilConfiguration()
        try configuration.applyEnvironment([
            "VIGIL_REQUEST_HEADER_TIMEOUT_SECONDS": "2", "VIGIL_REQUEST_BODY_TIMEOUT_SECONDS": "3", "VIGIL_IDLE_TIMEOUT_SECONDS": "4",
            "VIGIL_MAX_CONNECTIONS": "5", "VIGIL_EVENT_LOG_SEGMENT_BYTES": "131072", "VIGIL_EVENT_LOG_FAILURE_EXIT_SECONDS": "0",
        ])
        #expect(ConnectionLimits(configuration) == ConnectionLimits(headerTimeout: .seconds(2), bodyTimeout: .seconds(3), idleTimeout: .seconds(4), maxConnections: 5))
        #expect(configuration.eventLogSegmentBytes == 131072)
        #expect(configuration.eventLogFailureExitSeconds == 0)
    }

    @Test(arguments: [
        ("VIGIL_REQUEST_HEADER_TIMEOUT_SECONDS", "0", "requestHeaderTimeoutSeconds must be between 1 and 3600"),
        ("VIGIL_REQUEST_BODY_TIMEOUT_SECONDS", "ten", "VIGIL_REQUEST_BODY_TIMEOUT_SECONDS must be a number"),
        ("VIGIL_MAX_CONNECTIONS", "0", "maxConnections must be between 1 and 1000000"),
        ("VIGIL_EVENT_LOG_SEGMENT_BYTES", "4096", "eventLogSegmentBytes must be between 65536 and 1073741824"),
    ])
    func anOutOfRangeLimitIsRefusedByName(variable: String, value: String, message: String) {
        var configuration = VigilConfiguration()
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment([variable: value]) }
        do {
            try configuration.applyEnvironment([variable: value])
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func theConfigFileSetsTheLimits() throws {
        let path = temporaryDataDirectory() + ".json"
        try #"{"requestHeaderTimeoutSeconds": 7, "idleTimeoutSeconds": 90, "maxConnections": 20}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try VigilConfiguration.load(file: path)
        #expect(configuration.requestHeaderTimeoutSeconds == 7)
        #expect(configuration.idleTimeoutSeconds == 90)
        #expect(configuration.maxConnections == 20)
    }
}
