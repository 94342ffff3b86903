import Foundation
import VigilRedis

/// The servers `scripts/test-servers start` runs, found through the environment it writes.
enum RedisTestEnvironment {
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

    static func url() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDIS_URL")) }
    static func clusterURL() throws -> RedisURL { try RedisURL(variable("VIGIL_TEST_REDIS_CLUSTER_URL")) }

    /// A tenant name no other test or test run uses, so tests share the servers without touching each other's keys.
    static func uniqueTenant() -> String { "test-\(UInt64.random(in: 0...UInt64.max))" }
}
