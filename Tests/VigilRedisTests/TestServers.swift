import Foundation
import NIOCore
import NIOSSL
import VigilRedis

/// The servers `scripts/test-servers start` runs, found through the environment it writes.
enum TestServers {
    struct Missing: Error, CustomStringConvertible {
        var variable: String
        var description: String {
            "\(variable) is not set, so the Redis tests have no server. Start them with `scripts/test-servers start`, "
                + "then `. ${TMPDIR:-/tmp}/vigil-test-servers/env` before `swift test` (scripts/test does both)."
        }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    /// The plain server, as the ACL user `vigil`.
    static func url() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDIS_URL")) }
    /// The plain server, as the `default` user (`requirepass`).
    static func defaultUserURL() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDIS_DEFAULT_URL")) }
    static func tlsURL() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDISS_URL")) }
    static func clusterURL() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDIS_CLUSTER_URL")) }

    /// A client configuration trusting the test CA.
    static func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(try variable("VIGIL_TEST_REDIS_TLS_CA"))
        return tls
    }

    /// A key prefix no other test run or test uses.
    static func uniqueKey(_ name: String) -> String {
        "vigil-test:\(name):\(UInt64.random(in: 0...UInt64.max))"
    }
}
