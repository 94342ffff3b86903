import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VigilEngine
import VigilEventLog
import VigilRedis
@testable import VigilRedisState
import VigilServer

/// Two regions on two databases of the test Redis (region a on one, region b on another), each node writing its
/// answers to the other's as well: a payment scored at a and retried at b is b's duplicate with a's answer; a peer
/// that is down or silent costs a counted miss, never the answer; a tenant pinned to a is not written into b.
@Suite(.serialized)
struct PeerRegionTests {
    struct Regions {
        var a: VigilConfiguration
        var b: VigilConfiguration
        var key: String
        var directories: [String]
    }

    /// Region a's and b's configurations on databases 6 and 7, with one key prefix (the layout both share) and one
    /// control plane's content copied to each (the same tenant, key and tokenisation key in both regions).
    static func regions() throws -> Regions {
        let base = try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_URL")
        var (a, key, directory) = try RedisStateBackendTests.node(state: base + "/6")
        let copy = directory + "-b"
        try FileManager.default.copyItem(atPath: directory, toPath: copy)
        a.region = "a"
        a.peerRegion = "b"
        a.peerState = base + "/7"
        var b = a
        b.dataDirectory = copy
        b.state = base + "/7"
        b.region = "b"
        b.peerRegion = "a"
        b.peerState = base + "/6"
        return Regions(a: a, b: b, key: key, directories: [directory, copy])
    }

    static func score(_ http: some TestClientProtocol, key: String, body: ByteBuffer) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await http.execute(
            uri: "/v1/payments/score", method: .post, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: body
        ) { ($0.status, (try? JSONSerialization.jsonObject(with: Data($0.body.readableBytesView))) as? [String: Any] ?? [:]) }
    }

    static func metric(_ name: String, _ http: some TestClientProtocol) async throws -> Double? {
        let text = try await http.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test func aPaymentScoredInOneRegionIsADuplicateWhenRetriedInTheOther() async throws {
        let regions = try Self.regions()
        defer { for directory in regions.directories { try? FileManager.default.removeItem(atPath: directory) } }
        let atA = try await buildApplication(
            configuration: regions.a, backend: try await RedisStateBackend.connectWithPeer(configuration: regions.a), logger: Logger(label: "a")
        )
        let atB = try await buildApplication(
            configuration: regions.b, backend: try await RedisStateBackend.connectWithPeer(configuration: regions.b), logger: Logger(label: "b")
        )
        let body = RedisStateBackendTests.body("x-1")
        try await atA.test(.router) { a in
            try await RedisStateBackendTests.waitFor(.ok, a)
            let (status, first) = try await Self.score(a, key: regions.key, body: body)
            #expect(status == .ok)
            #expect(first["duplicate"] as? Bool == false)
            let (scoreId, score) = (first["scoreId"] as? String, first["score"] as? Int)
            #expect(try await Self.metric("vigil_region_peer_write_misses_total", a) == 0)
            try await atB.test(.router) { b in
                try await RedisStateBackendTests.waitFor(.ok, b)
                let (status, retried) = try await Self.score(b, key: regions.key, body: body)
                #expect(status == .ok)
                #expect(retried["duplicate"] as? Bool == true)
                #expect(retried["scoreId"] as? String == scoreId)
                #expect(retried["score"] as? Int == score)
            }
        }
        // Scored once, at a; b answered the retry from a's answer.
        var kinds: [String] = []
        try FileEventLog.read(directory: regions.b.dataDirectory + "/events") { _, payload in kinds.append(RedisStateBackendTests.kind(payload)) }
        #expect(kinds == ["duplicateAnswered"])
    }

    @Test(arguments: ["closed", "silent"])
    func aPeerThatIsDownOrSilentCostsACountedMissNotTheAnswer(peer: String) async throws {
        var setUp = try Self.regions()
        defer { for directory in setUp.directories { try? FileManager.default.removeItem(atPath: directory) } }
        let silent = peer == "silent" ? try await HandshakeOnlyServer.start() : nil
        setUp.a.peerState = silent?.url.description ?? "redis://127.0.0.1:1"
        setUp.a.peerWriteTimeoutMilliseconds = 200
        let regions = setUp
        let backend = try await RedisStateBackend.connectWithPeer(configuration: regions.a)
        let app = try await buildApplication(configuration: regions.a, backend: backend, logger: Logger(label: "a"))
        try await app.test(.router) { a in
            try await RedisStateBackendTests.waitFor(.ok, a)
            let body = RedisStateBackendTests.body("down-1")
            let (status, first) = try await Self.score(a, key: regions.key, body: body)
            #expect(status == .ok)
            #expect(try await Self.metric("vigil_region_peer_write_misses_total", a) == 1)
            // The local write alone acknowledged: a retry in region a is its duplicate.
            let (again, retried) = try await Self.score(a, key: regions.key, body: body)
            #expect(again == .ok)
            #expect(retried["duplicate"] as? Bool == true)
            #expect(retried["scoreId"] as? String == first["scoreId"] as? String)
        }
        try await silent?.stop()
    }

    @Test func aTenantPinnedToOneRegionIsNotWrittenIntoTheOther() async throws {
        let regions = try Self.regions()
        defer { for directory in regions.directories { try? FileManager.default.removeItem(atPath: directory) } }
        let admin = Administration(
            dataDirectory: regions.a.dataDirectory, provider: regions.a.masterKeyProvider, actor: AuditLog.Actor(name: "test")
        )
        try admin.setRegions(name: "bank-a", regions: ["a"])
        let backend = try await RedisStateBackend.connectWithPeer(configuration: regions.a)
        let app = try await buildApplication(configuration: regions.a, backend: backend, logger: Logger(label: "a"))
        try await app.test(.router) { a in
            try await RedisStateBackendTests.waitFor(.ok, a)
            let (status, _) = try await Self.score(a, key: regions.key, body: RedisStateBackendTests.body("pinned-1"))
            #expect(status == .ok)
            #expect(try await Self.metric("vigil_region_peer_writes_skipped_total", a) == 1)
            #expect(try await Self.metric("vigil_region_peer_write_misses_total", a) == 0)
        }
        // Region b's store holds nothing for the payment: its id is still free there.
        let peer = backend.duplicates.peer
        let reservation = try await peer.reserve(tenant: "bank-a", paymentId: "pinned-1", fingerprint: 1, nowMillis: 0)
        #expect(reservation == .reserved)
        await peer.release(tenant: "bank-a", paymentId: "pinned-1")
        // …while region a's holds the answer.
        let local = try await backend.duplicates.local.reserve(tenant: "bank-a", paymentId: "pinned-1", fingerprint: 1, nowMillis: 0)
        #expect(local == .reused)
    }
}
