import Foundation
public import VigilEngine
public import VigilFeatures
import VigilRedis
import VigilRedisState

/// The state stores every store test runs against: the in-process one and the Valkey/Redis one, on a single server
/// and on a 3-primary cluster (the servers `scripts/test-servers start` runs; without its environment the Redis
/// cases fail, they never skip).
///
/// Each Redis store gets a key prefix of its own, so tests share one server without meeting.
public enum StateStoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, redis, redisCluster

    public var description: String { rawValue }

    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String {
            "VIGIL_TEST_REDIS_URL is not set, so the Redis store tests have no server. Start them with "
                + "`scripts/test-servers start`, then `. ${TMPDIR:-/tmp}/vigil-test-servers/env` before `swift test` (scripts/test does both)."
        }
    }

    /// The server's URL from the environment `scripts/test-servers` writes.
    static func url(_ variable: String) throws -> String {
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else { throw MissingServer() }
        return url
    }

    /// One client per server and test process, connected on first use.
    static let client = Task<RedisClient, any Error> { try await RedisClient.connect(url: try url("VIGIL_TEST_REDIS_URL")) }
    static let clusterClient = Task<RedisClient, any Error> { try await RedisClient.connect(url: try url("VIGIL_TEST_REDIS_CLUSTER_URL")) }

    var sharedClient: RedisClient {
        get async throws { try await (self == .redisCluster ? Self.clusterClient : Self.client).value }
    }

    static func freshKeys() -> KeySpace { KeySpace(prefix: "test-\(UInt64.random(in: 0...UInt64.max)):") }

    public func featureStore() async throws -> any FeatureStore {
        switch self {
        case .memory: InMemoryFeatureStore()
        case .redis, .redisCluster: RedisFeatureStore(client: try await sharedClient, keys: Self.freshKeys(), idleExpiryDays: 8)
        }
    }

    /// Compare-and-set attempts the stores repeated (0 for the in-process store, which never retries).
    public static func retries(_ stores: [any FeatureStore]) -> Int {
        stores.reduce(0) { $0 + (($1 as? RedisFeatureStore)?.statistics.retries ?? 0) }
    }

    /// Two stores over one state, as two nodes see it: the same object in process, two clients on one Redis.
    public func twoNodes() async throws -> (any FeatureStore, any FeatureStore) {
        switch self {
        case .memory:
            let store = InMemoryFeatureStore()
            return (store, store)
        case .redis, .redisCluster:
            let url = try Self.url(self == .redisCluster ? "VIGIL_TEST_REDIS_CLUSTER_URL" : "VIGIL_TEST_REDIS_URL")
            let keys = Self.freshKeys()
            let first = RedisFeatureStore(client: try await RedisClient.connect(url: url), keys: keys, idleExpiryDays: 8)
            let second = RedisFeatureStore(client: try await RedisClient.connect(url: url), keys: keys, idleExpiryDays: 8)
            return (first, second)
        }
    }

    public func referenceStore() async throws -> any ReferenceStore {
        switch self {
        case .memory: InMemoryReferenceStore()
        case .redis, .redisCluster: RedisReferenceStore(client: try await sharedClient, keys: Self.freshKeys())
        }
    }

    public func duplicateStore(retentionSeconds: Int64 = 48 * 3600) async throws -> any DuplicateStore {
        switch self {
        case .memory: DuplicateIndex(retentionSeconds: retentionSeconds)
        case .redis, .redisCluster:
            RedisDuplicateStore(client: try await sharedClient, keys: Self.freshKeys(), retentionSeconds: retentionSeconds)
        }
    }
}
