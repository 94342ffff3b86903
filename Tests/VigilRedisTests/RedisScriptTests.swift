import Testing

@testable import VigilRedis

/// `EVALSHA` with the `NOSCRIPT` fallback, against the plain server and the cluster.
@Suite struct RedisScriptTests {
    /// A read-modify-write that is only correct if the server runs it atomically.
    static func incrementScript() -> RedisScript {
        RedisScript("""
            -- \(TestServers.uniqueKey("script"))
            local value = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
            redis.call('SET', KEYS[1], value)
            return value
            """)
    }

    @Test func theSHA1IsTheOneTheServerComputes() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        let script = Self.incrementScript()
        #expect(try await client.send("SCRIPT", "LOAD", RedisArgument(script.source)).string == script.sha1)
        await client.close()
    }

    @Test(arguments: [false, true])
    func concurrentScriptIncrementsLoseNone(_ cluster: Bool) async throws {
        let url = cluster ? try TestServers.clusterURL() : try TestServers.url()
        let first = try await RedisClient.connect(url: url)
        let second = try await RedisClient.connect(url: url)
        let script = Self.incrementScript()
        let key = RedisArgument("{\(TestServers.uniqueKey("rmw"))}:count")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in [first, second] {
                for _ in 0..<500 {
                    group.addTask { _ = try await client.eval(script, keys: [key], arguments: ["1"]) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.send("GET", key).int == 1000)
        _ = try await first.send("DEL", key)
        await first.close()
        await second.close()
    }

    @Test func afterScriptFlushTheClientFallsBackToEval() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        let script = Self.incrementScript()
        let key = RedisArgument(TestServers.uniqueKey("noscript"))
        #expect(try await client.eval(script, keys: [key], arguments: ["2"]).int == 2)
        #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array == [.integer(1)])
        _ = try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array == [.integer(0)])
        #expect(try await client.eval(script, keys: [key], arguments: ["3"]).int == 5)
        // EVAL cached the body again, so the next call is an EVALSHA hit.
        #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array == [.integer(1)])
        _ = try await client.send("DEL", key)
        await client.close()
    }

    @Test func aScriptErrorIsAServerError() async throws {
        let client = try await RedisClient.connect(url: TestServers.url())
        await #expect {
            _ = try await client.eval(RedisScript("return redis.error_reply('VIGIL broken')"))
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .server && error.message.contains("VIGIL broken")
        }
        await client.close()
    }
}
