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

        let plan = UsagePlan(ratePerSecond: 0.5, burst: 4, dailyQuota: 100)
        for _ in 0..<2 { _ = await node.admit(tenant, plan) }
        // Two tokens short of full at 0.5 a second: full, and gone, after at most 4 s.
        let ratePTTL = try #require(try await node.client.send("PTTL", RedisArgument(rate)).int)
        #expect((1...4_000).contains(ratePTTL))
        // The day's count goes at the end of the UTC day.
        let dayTTL = try #require(try await node.client.send("TTL", RedisArgument(day)).int)
        let untilMidnight = try await node.secondsUntilMidnight()
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

/// A loopback TCP server that answers the client's first command (its `PING` handshake) with `PONG`, then
/// reads everything and answers nothing: a Redis that hangs.
struct HandshakeOnlyServer {
    final class AnswerFirstOnly: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var answered = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "+PONG\r\n")), promise: nil)
        }
    }

    static let shortTimeouts = RedisConfiguration(commandTimeout: .milliseconds(300), connectTimeout: .milliseconds(300))

    final class Accepted: Sendable {
        let channels = Mutex<[any Channel]>([])
    }

    let listener: any Channel
    let accepted: Accepted
    let url: RedisURL

    static func start() async throws -> HandshakeOnlyServer {
        let accepted = Accepted()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.channels.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AnswerFirstOnly()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = try RedisURL("redis://127.0.0.1:\(try #require(listener.localAddress?.port))")
        return HandshakeOnlyServer(listener: listener, accepted: accepted, url: url)
    }

    /// Closes the port and every accepted connection.
    func stop() async throws {
        try await listener.close()
        for channel in accepted.channels.withLock({ $0 }) { try? await channel.close() }
    }
}
