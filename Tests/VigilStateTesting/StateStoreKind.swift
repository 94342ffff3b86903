import Foundation
public import VigilEngine
public import VigilFeatures
import VigilRedis
import VigilRedisState

/// The state stores every store test runs against: the in-process one and the Valkey/Redis one (on the server
/// `scripts/test-servers start` runs; without its environment the Redis cases fail, they never skip).
///
/// Each Redis store gets a key prefix of its own, so tests share one server without meeting.
public enum StateStoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, redis

    public var description: String { rawValue }

    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String {
            "VIGIL_TEST_REDIS_URL is not set, so the Redis store tests have no server. Start them with "
                + "`scripts/test-servers start`, then `. ${TMPDIR:-/tmp}/vigil-test-servers/env` before `swift test` (scripts/test does both)."
        }
    }

    /// One client per test process, connected on first use.
    static let client = Task<RedisClient, any Error> {
        guard let url = ProcessInfo.processInfo.environment["VIGIL_TEST_REDIS_URL"], !url.isEmpty else { throw MissingServer() }
        return try await RedisClient.connect(url: url)
    }

    static func freshKeys() -> KeySpace { KeySpace(prefix: "test-\(UInt64.random(in: 0...UInt64.max)):") }

    public func featureStore() async throws -> any FeatureStore {
        switch self {
        case .memory: InMemoryFeatureStore()
        case .redis: RedisFeatureStore(client: try await Self.client.value, keys: Self.freshKeys(), idleExpiryDays: 8)
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
        case .redis:
            guard let url = ProcessInfo.processInfo.environment["VIGIL_TEST_REDIS_URL"], !url.isEmpty else { throw MissingServer() }
            let keys = Self.freshKeys()
            let first = RedisFeatureStore(client: try await RedisClient.connect(url: url), keys: keys, idleExpiryDays: 8)
            let second = RedisFeatureStore(client: try await RedisClient.connect(url: url), keys: keys, idleExpiryDays: 8)
            return (first, second)
        }
    }

    public func duplicateStore(retentionSeconds: Int64 = 48 * 3600) async throws -> any DuplicateStore {
        switch self {
        case .memory: DuplicateIndex(retentionSeconds: retentionSeconds)
        case .redis: RedisDuplicateStore(client: try await Self.client.value, keys: Self.freshKeys(), retentionSeconds: retentionSeconds)
        }
    }
}
