import Testing

@testable import VigilRedis

@Suite struct RedisURLTests {
    @Test func plainURLWithUserPasswordAndDatabase() throws {
        let url = try RedisURL("redis://app:s3cr%40t@cache.internal:6380/4")
        #expect(url.endpoints == [RedisURL.Endpoint(host: "cache.internal", port: 6380)])
        #expect(url.username == "app")
        #expect(url.password?.value == "s3cr@t")
        #expect(url.database == 4)
        #expect(!url.tls && !url.cluster)
    }

    @Test func defaultsAndPasswordOnlyForms() throws {
        let bare = try RedisURL("redis://localhost")
        #expect(bare.endpoints == [RedisURL.Endpoint(host: "localhost", port: 6379)])
        #expect(bare.username == nil && bare.password == nil && bare.database == 0)
        #expect(try RedisURL("redis://:pw@h:1").password?.value == "pw")
        #expect(try RedisURL("redis://pw@h:1").password?.value == "pw")
        #expect(try RedisURL("redis://pw@h:1").username == nil)
    }

    @Test func tlsClusterAndIPv6() throws {
        #expect(try RedisURL("rediss://h:1").tls)
        let cluster = try RedisURL("redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002")
        #expect(cluster.cluster && !cluster.tls)
        #expect(cluster.endpoints.map(\.port) == [7000, 7001, 7002])
        #expect(cluster.endpoints[2].host == "::1")
        #expect(try RedisURL("rediss+cluster://a:1,b:2").tls)
    }

    @Test(arguments: [
        ("localhost:6379", "no scheme"),
        ("http://h:1", "unsupported scheme"),
        ("redis://", "host is empty"),
        ("redis://h:0", "port"),
        ("redis://h:99999", "port"),
        ("redis://h:abc", "port"),
        ("redis://h:1/x", "database"),
        ("redis://h:1/-1", "database"),
        ("redis://a:1,b:2", "several hosts"),
        ("redis+cluster://a:1/3", "only database 0"),
        ("redis+cluster://a:1,,b:2", "host is empty"),
        ("redis://h:1?timeout=3", "query"),
        ("redis://[::1:1", "closing ']'"),
        ("redis://u:%zz@h:1", "percent escape"),
    ])
    func badURLsGetSpecificErrors(_ text: String, _ expected: String) {
        #expect {
            _ = try RedisURL(text)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidURL && error.message.contains(expected)
        }
    }

    @Test func thePasswordNeverAppears() throws {
        let url = try RedisURL("redis://app:hunter2-canary@h:1/2")
        #expect(url.description == "redis://app:***@h:1/2")
        #expect(!String(reflecting: url).contains("hunter2-canary"))
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!dumped.contains("hunter2-canary"))
        // A bad URL's error does not repeat the user information either.
        do {
            _ = try RedisURL("redis://app:hunter2-canary@h:notaport")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("hunter2-canary"))
        }
    }
}
