import NIOCore
import Testing

@testable import VigilRedis

/// Against the 3-primary cluster that `scripts/test-servers start` runs. The migration tests move one slot each,
/// chosen by a unique hash tag whose slot holds no key yet, and finish the migration so the cluster stays consistent
/// for other tests. They run one at a time. Other suites share the cluster and may put keys in a migrating slot at any
/// moment, so finishing a migration first moves every key the source still holds in that slot, as `redis-cli
/// --cluster reshard` does (a node refuses to give up a slot while it holds keys in it).
@Suite(.serialized) struct RedisClusterTests {
    /// One direct connection per primary, with its node id.
    struct Node {
        var connection: RedisConnection
        var id: String
    }

    static func nodes() async throws -> [Node] {
        let url = try TestServers.clusterURL()
        var nodes: [Node] = []
        for endpoint in url.endpoints {
            let connection = try await RedisConnection.connect(url: url, endpoint: endpoint)
            let id = try #require(try await connection.send("CLUSTER", "MYID").string)
            nodes.append(Node(connection: connection, id: id))
        }
        return nodes
    }

    /// The node that serves `key` now: the one that answers a read without a redirect.
    static func owner(of key: RedisArgument, among nodes: [Node]) async throws -> Int {
        var owners: [Int] = []
        for (index, node) in nodes.enumerated() {
            let reply = try await node.connection.pipeline([["EXISTS", key]])[0]
            if case .integer = reply { owners.append(index) }
        }
        try #require(owners.count == 1)
        return owners[0]
    }

    @Test func commandsGoToTheirSlotsPrimaryOnAllThreeNodes() async throws {
        let client = try await RedisClient.connect(url: TestServers.clusterURL())
        let nodes = try await Self.nodes()
        let prefix = TestServers.uniqueKey("route")
        let keys = (0..<60).map { RedisArgument("\(prefix):\($0)") }
        for key in keys[..<30] { _ = try await client.send("SET", key, "v") }
        let replies = try await client.pipeline(keys[30...].map { RedisCommand("SET", $0, "v") })
        #expect(replies.allSatisfy { $0 == .simpleString("OK") })
        var owners = Set<Int>()
        for key in keys {
            let owner = try await Self.owner(of: key, among: nodes)
            #expect(try await nodes[owner].connection.send("GET", key).string == "v")
            owners.insert(owner)
        }
        #expect(owners == [0, 1, 2])
        #expect(client.redirectsFollowed == 0)
        let deleted = try await client.pipeline(keys.map { RedisCommand("DEL", $0) })
        #expect(deleted.allSatisfy { $0 == .integer(1) })
        for node in nodes { await node.connection.close() }
        await client.close()
    }

    /// Moves `slot` from `source` to `target` the way `redis-cli --cluster reshard` does.
    static func startMigration(slot: Int, from source: Node, to target: Node) async throws {
        _ = try await target.connection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "IMPORTING", RedisArgument(source.id))
        _ = try await source.connection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "MIGRATING", RedisArgument(target.id))
    }

    static func migrateKeys(_ keys: [RedisArgument], from source: Node, to target: Node) async throws {
        _ = try await source.connection.send(
            ["MIGRATE", RedisArgument(target.connection.endpoint.host), RedisArgument(target.connection.endpoint.port), "", "0", "5000", "KEYS"] + keys)
    }

    /// A unique hash tag whose slot no node holds a key in yet, so a migration of that slot moves only the test's
    /// own keys unless another suite writes into it meanwhile.
    static func tagOfAnEmptySlot(_ name: String, nodes: [Node]) async throws -> String {
        for _ in 0..<100 {
            let tag = TestServers.uniqueKey(name)
            let slot = HashSlot.slot(of: RedisArgument("{\(tag)}").bytes.readableBytesView)
            var held: Int64 = 0
            for node in nodes {
                held += try await node.connection.send("CLUSTER", "COUNTKEYSINSLOT", RedisArgument(slot)).int ?? 0
            }
            if held == 0 { return tag }
        }
        throw RedisError(code: .server, message: "no empty slot found in 100 tries")
    }

    /// Moves what `source` still holds in `slot` to `target`, then gives the slot to `target` on every node.
    static func finishMigration(slot: Int, from source: Node, to target: Node, nodes: [Node]) async throws {
        while true {
            let keys = try await source.connection.send("CLUSTER", "GETKEYSINSLOT", RedisArgument(slot), "100").array ?? []
            if keys.isEmpty { break }
            try await migrateKeys(keys.compactMap { $0.string.map { RedisArgument($0) } }, from: source, to: target)
        }
        for node in nodes {
            _ = try await node.connection.send("CLUSTER", "SETSLOT", RedisArgument(slot), "NODE", RedisArgument(target.id))
        }
    }

    @Test func movedAfterASlotMigrationIsFollowedAndTheMapRefreshed() async throws {
        let client = try await RedisClient.connect(url: TestServers.clusterURL())
        let nodes = try await Self.nodes()
        let key = RedisArgument("{\(try await Self.tagOfAnEmptySlot("moved", nodes: nodes))}:k")
        _ = try await client.send("SET", key, "before")
        let slot = HashSlot.slot(of: key.bytes.readableBytesView)
        let source = try await Self.owner(of: key, among: nodes)
        let target = (source + 1) % 3

        try await Self.startMigration(slot: slot, from: nodes[source], to: nodes[target])
        try await Self.migrateKeys([key], from: nodes[source], to: nodes[target])
        try await Self.finishMigration(slot: slot, from: nodes[source], to: nodes[target], nodes: nodes)

        // The client's map still says `source`, which now answers MOVED.
        #expect(try await client.send("GET", key).string == "before")
        #expect(client.redirectsFollowed == 1)
        // The refreshed map routes straight to the new owner.
        _ = try await client.send("SET", key, "after")
        #expect(client.redirectsFollowed == 1)
        #expect(try await nodes[target].connection.send("GET", key).string == "after")
        _ = try await client.send("DEL", key)
        for node in nodes { await node.connection.close() }
        await client.close()
    }

    @Test func askDuringAMigrationSendsAskingToTheImportingNode() async throws {
        let client = try await RedisClient.connect(url: TestServers.clusterURL())
        let nodes = try await Self.nodes()
        let tag = try await Self.tagOfAnEmptySlot("ask", nodes: nodes)
        let moved = RedisArgument("{\(tag)}:moved")
        let fresh = RedisArgument("{\(tag)}:fresh")
        _ = try await client.send("SET", moved, "migrated")
        let slot = HashSlot.slot(of: moved.bytes.readableBytesView)
        let source = try await Self.owner(of: moved, among: nodes)
        let target = (source + 2) % 3

        try await Self.startMigration(slot: slot, from: nodes[source], to: nodes[target])
        try await Self.migrateKeys([moved], from: nodes[source], to: nodes[target])
        // The source no longer has the key and answers ASK; the client asks the importing node.
        #expect(try await client.send("GET", moved).string == "migrated")
        #expect(client.redirectsFollowed == 1)
        // A key that exists nowhere yet is created on the importing node too.
        _ = try await client.send("SET", fresh, "new")
        #expect(client.redirectsFollowed == 2)
        // ASK does not change the map: the next command goes to the source again, and is redirected again.
        #expect(try await client.send("GET", fresh).string == "new")
        #expect(client.redirectsFollowed == 3)
        // Without ASKING, the importing node refuses: the client really sent it.
        let direct = try await nodes[target].connection.pipeline([["GET", fresh]])[0]
        guard case .error(let message) = direct else {
            Issue.record("expected MOVED from the importing node without ASKING, got \(direct)")
            return
        }
        #expect(message.hasPrefix("MOVED"))

        try await Self.finishMigration(slot: slot, from: nodes[source], to: nodes[target], nodes: nodes)
        _ = try await client.pipeline([RedisCommand("DEL", moved), RedisCommand("DEL", fresh)])
        for node in nodes { await node.connection.close() }
        await client.close()
    }

    @Test func theRedirectLimitStopsALoop() async throws {
        // Zero redirects allowed: the first MOVED is already one too many.
        let client = try await RedisClient.connect(url: TestServers.clusterURL(), configuration: RedisConfiguration(maxRedirects: 0))
        let nodes = try await Self.nodes()
        let key = RedisArgument("{\(try await Self.tagOfAnEmptySlot("limit", nodes: nodes))}:k")
        _ = try await client.send("SET", key, "v")
        let slot = HashSlot.slot(of: key.bytes.readableBytesView)
        let source = try await Self.owner(of: key, among: nodes)
        let target = (source + 1) % 3
        try await Self.startMigration(slot: slot, from: nodes[source], to: nodes[target])
        try await Self.migrateKeys([key], from: nodes[source], to: nodes[target])
        await #expect {
            _ = try await client.send("GET", key)
        } throws: { error in
            (error as? RedisError)?.code == .redirectLimit
        }
        try await Self.finishMigration(slot: slot, from: nodes[source], to: nodes[target], nodes: nodes)
        _ = try await nodes[target].connection.send("DEL", key)
        for node in nodes { await node.connection.close() }
        await client.close()
    }

    @Test func aClusterURLWithNoReachableSeedFails() async throws {
        await #expect {
            _ = try await RedisClient.connect(url: "redis+cluster://127.0.0.1:1", configuration: RedisConfiguration(connectTimeout: .milliseconds(500)))
        } throws: { error in
            (error as? RedisError)?.code == .connection
        }
    }
}
