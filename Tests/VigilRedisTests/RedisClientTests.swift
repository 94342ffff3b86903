import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import VigilRedis

/// Against the plain and the TLS server that `scripts/test-servers start` runs.
@Suite struct RedisClientTests {
    @Test func commandsAndAThousandPipelinedIncrements() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        let key = TestServers.uniqueKey("incr")
        #expect(try await client.send("PING") == .simpleString("PONG"))
        #expect(try await client.send("SET", RedisArgument(key + ":s"), "value") == .simpleString("OK"))
        #expect(try await client.send("GET", RedisArgument(key + ":s")).string == "value")
        #expect(try await client.send("GET", RedisArgument(key + ":missing")).isNull)

        let replies = try await client.pipeline((0..<1000).map { _ in RedisCommand("INCR", RedisArgument(key)) })
        #expect(replies.map(\.int) == (1...1000).map { Int64($0) })
        #expect(try await client.send("GET", RedisArgument(key)).int == 1000)
        _ = try await client.send("DEL", RedisArgument(key), RedisArgument(key + ":s"))
        await client.close()
    }

    @Test func concurrentCommandsShareThePool() async throws {
        let client = try await RedisClient.connect(url: TestServers.url(), configuration: RedisConfiguration(maxConnectionsPerNode: 3))
        let key = TestServers.uniqueKey("concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<300 {
                group.addTask { _ = try await client.send("INCR", RedisArgument(key)) }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send("GET", RedisArgument(key)).int == 300)
        #expect(client.openConnections.count <= 3)
        _ = try await client.send("DEL", RedisArgument(key))
        await client.close()
    }

    @Test func serverErrorsAreTypedAndPipelinesCarryThemInPlace() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        let key = TestServers.uniqueKey("wrongtype")
        _ = try await client.send("SET", RedisArgument(key), "text")
        await #expect {
            _ = try await client.send("LPUSH", RedisArgument(key), "x")
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .server && error.message.hasPrefix("WRONGTYPE")
        }
        let replies = try await client.pipeline([RedisCommand("LPUSH", RedisArgument(key), "x"), RedisCommand("GET", RedisArgument(key))])
        guard case .error(let message) = replies[0] else {
            Issue.record("expected an error in place, got \(replies[0])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[1].string == "text")
        _ = try await client.send("DEL", RedisArgument(key))
        await client.close()
    }

    @Test func theDefaultUserAuthenticatesWithThePasswordOnly() async throws {
        let client = try await RedisClient.connect(url: TestServers.defaultUserURL())
        #expect(try await client.send("ACL", "WHOAMI").string == "default")
        await client.close()
        let user = try await RedisClient.connect(url: TestServers.url())
        #expect(try await user.send("ACL", "WHOAMI").string == "vigil")
        await user.close()
    }

    @Test(arguments: [true, false])
    func aWrongPasswordIsATypedErrorWithoutThePassword(_ withUser: Bool) async throws {
        var url = withUser ? try TestServers.url() : try TestServers.defaultUserURL()
        let wrong = "wrong-canary-\(UInt32.random(in: 0...UInt32.max))"
        url.password = RedisPassword(wrong)
        do {
            let client = try await RedisClient.connect(url: url)
            await client.close()
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.code == .authentication)
            #expect(!error.description.contains(wrong))
            #expect(!"\(error)".contains(wrong))
        }
    }

    @Test func noPasswordIsAnAuthenticationError() async throws {
        var url = try TestServers.url()
        url.username = nil
        url.password = nil
        await #expect {
            _ = try await RedisClient.connect(url: url)
        } throws: { error in
            (error as? RedisError)?.code == .authentication
        }
    }

    @Test func theURLsDatabaseIsSelected() async throws {
        var url = try TestServers.url()
        url.database = 5
        let db5 = try await RedisClient.connect(url: url)
        let db0 = try await RedisClient.connect(url: TestServers.url())
        let key = RedisArgument(TestServers.uniqueKey("select"))
        _ = try await db5.send("SET", key, "5")
        #expect(try await db5.send("EXISTS", key).int == 1)
        #expect(try await db0.send("EXISTS", key).int == 0)
        #expect(try await db5.send("CLIENT", "INFO").string?.contains(" db=5 ") == true)
        _ = try await db5.send("DEL", key)
        await db5.close()
        await db0.close()
    }

    @Test func tlsRoundTrip() async throws {
        let configuration = RedisConfiguration(tls: try TestServers.tlsConfiguration())
        let client = try await RedisClient.connect(url: TestServers.tlsURL(), configuration: configuration)
        let key = RedisArgument(TestServers.uniqueKey("tls"))
        _ = try await client.send("SET", key, "over tls")
        #expect(try await client.send("GET", key).string == "over tls")
        _ = try await client.send("DEL", key)
        await client.close()
    }

    @Test func tlsWithAnUntrustedCertificateFailsToConnect() async throws {
        // NIOSSL's defaults trust only the system roots, which did not sign the test CA.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([])
        await #expect {
            _ = try await RedisClient.connect(url: TestServers.tlsURL(), configuration: RedisConfiguration(tls: tls))
        } throws: { error in
            (error as? RedisError)?.code == .connection
        }
    }

    @Test func plainTextToTheTLSPortFails() async throws {
        var url = try TestServers.tlsURL()
        url.tls = false
        url.password = RedisPassword("x")  // so the connect sends a command and waits for its answer
        let configuration = RedisConfiguration(commandTimeout: .seconds(2), connectTimeout: .seconds(2))
        await #expect(throws: RedisError.self) {
            _ = try await RedisClient.connect(url: url, configuration: configuration)
        }
    }

    @Test func aCommandTimesOutAndTheNextOneReconnects() async throws {
        let configuration = RedisConfiguration(commandTimeout: .milliseconds(300), maxConnectionsPerNode: 1)
        let client = try await RedisClient.connect(url: TestServers.url(), configuration: configuration)
        let empty = RedisArgument(TestServers.uniqueKey("empty-list"))
        // BLPOP with timeout 0 blocks until an element arrives, which never happens.
        await #expect {
            _ = try await client.send("BLPOP", empty, "0")
        } throws: { error in
            (error as? RedisError)?.code == .timeout
        }
        #expect(try await client.send("PING") == .simpleString("PONG"))
        await client.close()
    }

    @Test func aConnectTimeoutIsTyped() async throws {
        // A server that accepts connections and never answers: the handshake (AUTH) must not wait past the
        // connect timeout, though the command timeout is longer.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = try RedisURL("redis://:pw@127.0.0.1:\(try #require(silent.localAddress?.port))")
        let configuration = RedisConfiguration(commandTimeout: .seconds(30), connectTimeout: .milliseconds(200))
        await #expect {
            _ = try await RedisClient.connect(url: url, configuration: configuration)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .timeout && error.message.hasPrefix("connecting to")
        }
        try await silent.close()
    }

    @Test func aKilledConnectionFailsFastAndTheNextCommandReconnects() async throws {
        let admin = try await RedisConnection.connect(url: TestServers.url())
        let client = try await RedisClient.connect(url: TestServers.url(), configuration: RedisConfiguration(maxConnectionsPerNode: 1))
        let firstID = try #require(try await client.send("CLIENT", "ID").int)
        let connection = try #require(client.openConnections.first)

        #expect(try await admin.send("CLIENT", "KILL", "ID", RedisArgument(firstID)).int == 1)
        try await connection.closeFuture.get()
        // On the dead connection itself: a typed error at once, nothing written.
        await #expect {
            _ = try await connection.send("PING")
        } throws: { error in
            (error as? RedisError)?.code == .connectionClosed
        }
        // Through the client: the pool notices and opens a new connection.
        let secondID = try #require(try await client.send("CLIENT", "ID").int)
        #expect(secondID != firstID)
        await client.close()
        await admin.close()
    }

    @Test func commandsInFlightOnAKilledConnectionFailWithATypedError() async throws {
        let admin = try await RedisConnection.connect(url: TestServers.url())
        let victim = try await RedisConnection.connect(url: TestServers.url(), configuration: RedisConfiguration(commandTimeout: nil))
        let id = try #require(try await victim.send("CLIENT", "ID").int)
        let empty = RedisArgument(TestServers.uniqueKey("never"))
        async let blocked: RedisValue = victim.send("BLPOP", empty, "0")
        // Wait until the server reports the client as blocked, so the kill lands while BLPOP is in flight.
        while try await admin.send("CLIENT", "LIST", "ID", RedisArgument(id)).string?.contains("cmd=blpop") != true {
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await admin.send("CLIENT", "KILL", "ID", RedisArgument(id))
        do {
            let reply = try await blocked
            Issue.record("BLPOP answered \(reply) on a killed connection")
        } catch {
            #expect((error as? RedisError)?.code == .connectionClosed)
        }
        await admin.close()
    }

    @Test func aClosedClientRefusesCommands() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        await client.close()
        await #expect {
            _ = try await client.send("PING")
        } throws: { error in
            (error as? RedisError)?.code == .poolClosed
        }
    }
}
