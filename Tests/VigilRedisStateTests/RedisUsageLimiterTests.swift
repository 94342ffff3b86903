import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import VigilEventLog
import VigilRedis
import VigilServer

@testable import VigilRedisState

/// What only the Redis limiter does: share one plan between nodes, keep its keys in one slot with TTLs, and answer
/// in bounded time when Redis does not.
@Suite struct RedisUsageLimiterTests {
    /// Two limiters on two clients are two nodes: together they admit exactly the burst, then exactly the quota.
    @Test(arguments: [false, true])
    func twoNodesShareOneBucketAndOneQuota(_ cluster: Bool) async throws {
        let url = cluster ? try RedisTestEnvironment.clusterURL() : try RedisTestEnvironment.url()
        let nodes = [try await RedisLimiter.make(url: url), try await RedisLimiter.make(url: url)]
        let (bucketTenant, quotaTenant) = (RedisTestEnvironment.uniqueTenant(), RedisTestEnvironment.uniqueTenant())
        let slowPlan = UsagePlan(ratePerSecond: 0.0001, burst: 10)
        let quotaPlan = UsagePlan(ratePerSecond: 1000, burst: 1000, dailyQuota: 7)
        for (tenant, plan, expected) in [(bucketTenant, slowPlan, 10), (quotaTenant, quotaPlan, 7)] {
            let admitted = await withTaskGroup(of: Bool.self) { group in
                for node in nodes {
                    for _ in 0..<40 {
                        group.addTask {
                            if case .admitted = await node.admit(tenant, plan) { return true }
                            return false
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == expected)
        }
        for node in nodes { await node.close(tenants: [bucketTenant, quotaTenant]) }
    }

    @Test func bothKeysShareASlotAndExpire() async throws {
        let node = try await RedisLimiter.make(url: RedisTestEnvironment.url())
        let tenant = "bank {a}:\(RedisTestEnvironment.uniqueTenant())"
        let (rate, day) = node.limiter.keys(tenant: tenant)
        #expect(rate == "vigil:{\(tenant)}:rate")
        #expect(day == "vigil:{\(tenant)}:day")
        // A brace in the name moves the tag for both keys alike.
        #expect(HashSlot.slot(of: rate) == HashSlot.slot(of: day))
        #expect(HashSlot.slot(of: node.limiter.keys(tenant: "b").rate) == HashSlot.slot(of: node.limiter.keys(tenant: "b").day))

        // Slow enough that a loaded machine's pause between the admissions and the read cannot outlast the key (CI saw
        // -2, the key gone, at 0.5 a second).
        let plan = UsagePlan(ratePerSecond: 0.001, burst: 4, dailyQuota: 100)
        for _ in 0..<2 { _ = await node.admit(tenant, plan) }
        // Two tokens short of full at 0.001 a second: full, and gone, after at most 2,000 s.
        let ratePTTL = try #require(try await node.client.send("PTTL", RedisArgument(rate)).int)
        #expect((1_000_000...2_000_000).contains(ratePTTL))
        // The day's count goes at the end of the UTC day. The seconds to midnight are read first: TTL, read after, rounds
        // the time left to the nearest second, never above what was left at the earlier whole second.
        let untilMidnight = try await node.secondsUntilMidnight()
        let dayTTL = try #require(try await node.client.send("TTL", RedisArgument(day)).int)
        #expect((1...untilMidnight).contains(Int(dayTTL)))
        #expect(try await node.client.send("HGET", RedisArgument(day), "count").int == 2)
        // What a node finds in its own log at start is already in the shared count.
        node.limiter.recordRecovered(tenant: tenant, atEpochSeconds: Int64(Date().timeIntervalSince1970))
        #expect(try await node.client.send("HGET", RedisArgument(day), "count").int == 2)
        await node.close(tenants: [tenant])
    }

    @Test func aCustomPrefixIsUsedAndABraceInItIsRefused() async throws {
        let client = try await RedisClient.connect(url: RedisTestEnvironment.url())
        let limiter = try RedisUsageLimiter(client: client, keyPrefix: "bank-x:")
        let tenant = RedisTestEnvironment.uniqueTenant()
        _ = await limiter.admit(tenant: tenant, plan: UsagePlan(ratePerSecond: 0.0001, burst: 2))
        #expect(try await client.send("HEXISTS", RedisArgument("bank-x:{\(tenant)}:rate"), "tokens").int == 1)
        #expect(throws: RedisUsageLimiter.InvalidPrefix.self) { try RedisUsageLimiter(client: client, keyPrefix: "vigil:{x}:") }
        _ = try await client.send("DEL", RedisArgument("bank-x:{\(tenant)}:rate"), RedisArgument("bank-x:{\(tenant)}:day"))
        await client.close()
    }

    /// A server that answers the handshake, then nothing: each request ends at the command timeout, unavailable.
    @Test func aSilentServerGivesUnavailable() async throws {
        let server = try await HandshakeOnlyServer.start()
        let client = try await RedisClient.connect(url: server.url, configuration: HandshakeOnlyServer.shortTimeouts)
        let limiter = try RedisUsageLimiter(client: client)
        for _ in 0..<2 {
            let decision = await limiter.admit(tenant: "a", plan: UsagePlan(ratePerSecond: 1, burst: 1))
            guard case .unavailable(let reason) = decision else { Issue.record("not unavailable: \(decision)"); return }
            #expect(reason.hasPrefix("usage-plan store: "))
        }
        await client.close()
        try await server.stop()
    }

    /// The server goes away and its port is closed: unavailable, from the reconnect's refusal or its timeout.
    @Test func aClosedPortGivesUnavailable() async throws {
        let server = try await HandshakeOnlyServer.start()
        let client = try await RedisClient.connect(url: server.url, configuration: HandshakeOnlyServer.shortTimeouts)
        try await server.stop()
        let limiter = try RedisUsageLimiter(client: client)
        for _ in 0..<2 {
            let decision = await limiter.admit(tenant: "a", plan: UsagePlan(ratePerSecond: 1, burst: 1))
            guard case .unavailable = decision else { Issue.record("not unavailable: \(decision)"); return }
        }
        // A tenant without a plan needs no store.
        guard case .admitted = await limiter.admit(tenant: "a", plan: nil) else { Issue.record("no plan, yet refused"); return }
        await client.close()
    }

    @Test func aReplyOfAnyOtherShapeIsUnavailableNotACrash() {
        let good: [RedisValue] = [.bulkString(ByteBuffer(string: "rate")), .bulkString(ByteBuffer(string: "0.25")), .integer(3), .integer(60)]
        #expect(RedisUsageLimiter.reading(.array(good)) == UsageReading(verdict: .rateLimited, tokens: 0.25, dayCount: 3, secondsUntilMidnight: 60))
        #expect(RedisUsageLimiter.reading(.array(Array(good.prefix(3)))) == nil)
        #expect(RedisUsageLimiter.reading(.array([.bulkString(ByteBuffer(string: "maybe"))] + good.dropFirst())) == nil)
        #expect(RedisUsageLimiter.reading(.array([good[0], .bulkString(ByteBuffer(string: "many")), good[2], good[3]])) == nil)
        #expect(RedisUsageLimiter.reading(.integer(1)) == nil)
        #expect(RedisUsageLimiter.reading(.array(nil)) == nil)
    }

    /// Over HTTP: `503 urn:vigil:problem:unavailable`, nothing scored, nothing in the event log.
    @Test func theServerAnswers503WhenTheStoreDoesNotAnswer() async throws {
        let server = try await HandshakeOnlyServer.start()
        let client = try await RedisClient.connect(url: server.url, configuration: HandshakeOnlyServer.shortTimeouts)
        let dir = NSTemporaryDirectory() + "vigil-redis-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dir
        configuration.port = 0
        let admin = Administration(configuration: configuration, actor: AuditLog.Actor(name: "test"))
        let key = try admin.createTenant(name: "planned")
        try admin.setPlan(name: "planned", plan: UsagePlan(ratePerSecond: 100, burst: 100))

        let app = try await buildApplication(
            configuration: configuration, logger: Logger(label: "test"), usage: try RedisUsageLimiter(client: client)
        )
        try await app.test(.router) { http in
            for _ in 0..<500 {
                let status = try await http.execute(uri: "/ready", method: .get) { $0.status }
                if status == .ok { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let response = try await http.execute(
                uri: "/v1/payments/score", method: .post,
                headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"paymentId":"p-1"}"#)
            ) { $0 }
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.headers[.retryAfter] == "1")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(body["type"] as? String == "urn:vigil:problem:unavailable")
            #expect(body["status"] as? Int == 503)
            #expect((body["detail"] as? String)?.hasPrefix("The usage-plan store did not answer") == true)
        }
        var events = 0
        try FileEventLog.read(directory: dir + "/events") { _, _ in events += 1 }
        #expect(events == 0)
        await client.close()
        try await server.stop()
    }
}
