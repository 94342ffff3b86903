import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilRedis
@testable import VigilRedisState
import VigilServer

/// A whole node on the Redis back end, over HTTP: it replays nothing, scores through Redis, shows the store's counters
/// in `/metrics`, and answers 503 (and `/ready` 503) when the store does not answer.
@Suite(.serialized)
struct RedisStateBackendTests {
    static func body(_ id: String, debtor: String = "12345678") -> ByteBuffer {
        let createdAt = ISO8601DateFormatter().string(from: Date())
        return ByteBuffer(string: """
            {"paymentId":"\(id)","perspective":"sending","type":"push","scheme":"FPS","amount":"25.00","currency":"GBP",
             "createdAt":"\(createdAt)","debtor":{"account":{"sortCode":"404142","accountNumber":"\(debtor)"}},
             "creditor":{"account":{"iban":"GB82WEST12345698765432"}}}
            """)
    }

    static func node(state: String) throws -> (VigilConfiguration, key: String, directory: String) {
        let dir = NSTemporaryDirectory() + "vigil-redis-node-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dir
        configuration.port = 0
        configuration.state = state
        configuration.statePrefix = "test-\(UInt64.random(in: 0...UInt64.max)):"
        // Generous: a loaded test machine must not turn a slow answer into a 503 (the silent-server test sets its own).
        configuration.stateTimeoutMilliseconds = 5000
        let key = try Administration(configuration: configuration, actor: AuditLog.Actor(name: "test")).createTenant(name: "bank-a")
        return (configuration, key, dir)
    }

    static func waitFor(_ status: HTTPResponse.Status, _ http: some TestClientProtocol) async throws {
        for _ in 0..<500 {
            let found = try await http.execute(uri: "/ready", method: .get) { $0.status }
            if found == status { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("/ready never answered \(status)")
    }

    @Test func aNodeOnRedisScoresAndShowsTheStoresCountersInMetrics() async throws {
        let (configuration, key, dir) = try Self.node(state: try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_URL"))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try await RedisStateBackend.connect(configuration: configuration)
        let app = try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test"))
        try await app.test(.router) { http in
            try await Self.waitFor(.ok, http)
            var counts: [Double] = []
            // Each body is made once: a retry must repeat its payment exactly (createdAt included), or it is another
            // payment under the same id (409 payment-id-reused), which a second boundary between them would cause.
            let bodies = ["m-1": Self.body("m-1"), "m-2": Self.body("m-2")]
            for id in ["m-1", "m-2", "m-2"] {
                let response = try await http.execute(
                    uri: "/v1/payments/score", method: .post,
                    headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: bodies[id]!
                ) { $0 }
                #expect(response.status == .ok)
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                counts.append((answer["duplicate"] as? Bool) == true ? 1 : 0)
            }
            #expect(counts == [0, 0, 1])
            let metrics = try await http.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let roundTrips = metrics.split(separator: "\n").first { $0.hasPrefix("vigil_state_store_round_trips_total ") }
            #expect(roundTrips.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 10 } == true, "\(metrics)")
            #expect(metrics.contains("vigil_state_store_cas_retries_total 0"))
            #expect(!metrics.contains("vigil_feature_state_keys"))
        }
        // Two payments scored, both in the node's own log, and the retry logged as answered.
        var kinds: [String] = []
        try FileEventLog.read(directory: dir + "/events") { _, payload in kinds.append(Self.kind(payload)) }
        #expect(kinds == ["scored", "scored", "duplicateAnswered"])
    }

    /// A node on Redis reads the reference data from Redis: entitlements another node loaded (written here straight to
    /// the store under the node's prefix) refuse a payment outside them on this node.
    @Test func aNodeOnRedisReadsTheSharedReferenceData() async throws {
        let (configuration, key, dir) = try Self.node(state: try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_URL"))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try await RedisStateBackend.connect(configuration: configuration)
        let reference = try #require(backend.reference as? RedisReferenceStore)
        #expect(reference.keys.prefix == configuration.statePrefix)
        let headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
        let app = try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test"))
        try await app.test(.router) { http in
            try await Self.waitFor(.ok, http)
            let before = try await http.execute(uri: "/v1/payments/score", method: .post, headers: headers, body: Self.body("e-1")) { $0.status }
            #expect(before == .ok)
            try await reference.replaceEntitlements([
                Entitlement(codeType: .sortCode, from: "500000", to: "599999", perspectives: [.sending], products: nil, validFrom: Instant(epochMillis: 0), validTo: nil)
            ], tenant: "bank-a")
            let after = try await http.execute(uri: "/v1/payments/score", method: .post, headers: headers, body: Self.body("e-2")) { $0 }
            #expect(after.status == .forbidden)
            #expect(String(buffer: after.body).contains("urn:vigil:problem:not-entitled"))
        }
    }

    /// A node killed after logging a payment but before recording its answer leaves only the reservation in Redis.
    /// Started again, the node records the answers of its newest events, so the retry is a duplicate, not a new score.
    @Test func aRestartedNodeRecordsTheAnswersItLoggedButHadNotRecorded() async throws {
        let (configuration, key, dir) = try Self.node(state: try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_URL"))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await RedisStateBackend.connect(configuration: configuration)
        let headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
        let body = Self.body("r-1")
        let app = try await buildApplication(configuration: configuration, backend: first, logger: Logger(label: "test"))
        let scoreId = try await app.test(.router) { http in
            try await Self.waitFor(.ok, http)
            let response = try await http.execute(uri: "/v1/payments/score", method: .post, headers: headers, body: body) { $0 }
            #expect(response.status == .ok)
            let answer = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            return answer?["scoreId"] as? String
        }
        // What a kill -9 between the log append and the answer's record leaves: the reservation, not the answer.
        let duplicateKey = first.duplicates.key(tenant: "bank-a", paymentId: "r-1")
        _ = try await first.duplicates.client.send(RedisCommand(["SET", duplicateKey, "P0000000000000000", "PX", "30000"], key: duplicateKey))

        let second = try await RedisStateBackend.connect(configuration: configuration)
        let restarted = try await buildApplication(configuration: configuration, backend: second, logger: Logger(label: "test"))
        try await restarted.test(.router) { http in
            try await Self.waitFor(.ok, http)
            var answer: [String: Any]?
            for _ in 0..<500 {
                let response = try await http.execute(uri: "/v1/payments/score", method: .post, headers: headers, body: body) { $0 }
                if response.status == .ok {
                    answer = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                    break
                }
                #expect(response.status == .conflict)
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(answer?["duplicate"] as? Bool == true)
            #expect(answer?["scoreId"] as? String == scoreId)
        }
        // Scored once; the retry answered from the restored answer.
        var kinds: [String] = []
        try FileEventLog.read(directory: dir + "/events") { _, payload in kinds.append(Self.kind(payload)) }
        #expect(kinds == ["scored", "duplicateAnswered"])
    }

    /// What an event-log record is, for counting.
    static func kind(_ payload: [UInt8]) -> String {
        switch try? EventCoding.decodeRecord(payload) {
        case .scored: "scored"
        case .duplicateAnswered: "duplicateAnswered"
        case .intake: "intake"
        case .shadow: "shadow"
        case .label: "label"
        case nil: "unreadable"
        }
    }

    @Test func aStoreThatStopsAnsweringIs503AndNotReadyWithNothingLogged() async throws {
        let server = try await HandshakeOnlyServer.start()
        let (node, key, dir) = try Self.node(state: server.url.description)
        var configuration = node
        configuration.stateTimeoutMilliseconds = 300
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = try await RedisStateBackend.connect(configuration: configuration)
        let app = try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test"))
        try await app.test(.router) { http in
            let response = try await http.execute(
                uri: "/v1/payments/score", method: .post,
                headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: Self.body("s-1")
            ) { $0 }
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "1")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(body["type"] as? String == "urn:vigil:problem:unavailable")
            try await Self.waitFor(.serviceUnavailable, http)
        }
        var events = 0
        try FileEventLog.read(directory: dir + "/events") { _, _ in events += 1 }
        #expect(events == 0)
        try await server.stop()
    }

    /// With `stateFailure = degraded`, a store that stops answering gives a score from the request alone, marked
    /// degraded, logged and counted, instead of a 503.
    @Test func aDegradedNodeScoresFromTheRequestAloneWhenTheStoreFails() async throws {
        let server = try await HandshakeOnlyServer.start()
        let (node, key, dir) = try Self.node(state: server.url.description)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = node
        configuration.stateTimeoutMilliseconds = 300
        configuration.stateFailure = .degraded
        let backend = try await RedisStateBackend.connect(configuration: configuration)
        let app = try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test"))
        try await app.test(.router) { http in
            let response = try await http.execute(
                uri: "/v1/payments/score", method: .post,
                headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: Self.body("d-1")
            ) { $0 }
            #expect(response.status == .ok)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(answer["degraded"] as? Bool == true)
            #expect(answer["duplicate"] as? Bool == false)
            let metrics = try await http.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("vigil_degraded_scores_total 1"))
        }
        var events: [[UInt8]] = []
        try FileEventLog.read(directory: dir + "/events") { _, payload in events.append(payload) }
        #expect(events.count == 1)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(EventCoding.exportJSON(events[0]))) as? [String: Any])
        let response = try #require(event["response"] as? [String: Any])
        #expect(response["degraded"] as? Bool == true)
        // Only the request's own features were known: every state feature is missing (null).
        let features = try #require(event["features"] as? [Any])
        #expect(features.filter { $0 is NSNull }.count >= features.count - 5)
        try await server.stop()
    }

    /// `rediss://` with the store's CA: the node scores over TLS; without that CA the start is refused.
    @Test func aNodeScoresOverTLSToAStoreItsCATrusts() async throws {
        let (node, key, dir) = try Self.node(state: try RedisTestEnvironment.variable("VIGIL_TEST_REDISS_URL"))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = node
        await #expect(throws: RedisStateBackend.Failure.self) { try await RedisStateBackend.connect(configuration: configuration) }
        configuration.stateTLSCAPath = try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_TLS_CA")
        let backend = try await RedisStateBackend.connect(configuration: configuration)
        let app = try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test"))
        try await app.test(.router) { http in
            try await Self.waitFor(.ok, http)
            let response = try await http.execute(
                uri: "/v1/payments/score", method: .post,
                headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: Self.body("tls-1")
            ) { $0 }
            #expect(response.status == .ok)
        }
    }

    @Test func anUnreachableStoreStopsTheStartWithoutShowingThePassword() async throws {
        var configuration = VigilConfiguration()
        configuration.state = "redis://vigil:s3cret-canary@127.0.0.1:1"
        configuration.stateTimeoutMilliseconds = 300
        do {
            _ = try await RedisStateBackend.connect(configuration: configuration)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.description.contains("127.0.0.1:1"))
            #expect(!error.description.contains("s3cret-canary"))
        }
        configuration.state = "redis://127.0.0.1:notaport"
        await #expect(throws: RedisStateBackend.Failure.self) { try await RedisStateBackend.connect(configuration: configuration) }
    }
}
