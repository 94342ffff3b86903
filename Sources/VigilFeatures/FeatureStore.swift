public import VigilDomain
import Synchronization

/// Where feature state lives. Each call reads and updates one key atomically.
///
/// The embedded implementation is `InMemoryFeatureStore`; a distributed one (Valkey/Redis) plugs in here.
public protocol FeatureStore: Sendable {
    func withAccount<R: Sendable>(_ account: Token, _ body: (inout AccountState) -> R) -> R
    func withPair<R: Sendable>(debtor: Token, creditor: Token, _ body: (inout PairState) -> R) -> R
    func withEntity<R: Sendable>(_ entity: Token, _ body: (inout EntityState) -> R) -> R
    /// Number of keys held, by kind.
    var keyCounts: (accounts: Int, pairs: Int, entities: Int) { get }
}

/// Feature state in process memory, sharded by token so concurrent payments rarely share a lock.
public final class InMemoryFeatureStore: FeatureStore {
    let accounts = ShardedMap<Token, AccountState>()
    let pairs = ShardedMap<PairKey, PairState>()
    let entities = ShardedMap<Token, EntityState>()

    public init() {}

    public func withAccount<R: Sendable>(_ account: Token, _ body: (inout AccountState) -> R) -> R {
        accounts.with(account, shard: account.a, body)
    }

    public func withPair<R: Sendable>(debtor: Token, creditor: Token, _ body: (inout PairState) -> R) -> R {
        pairs.with(PairKey(debtor: debtor, creditor: creditor), shard: debtor.a ^ creditor.b, body)
    }

    public func withEntity<R: Sendable>(_ entity: Token, _ body: (inout EntityState) -> R) -> R {
        entities.with(entity, shard: entity.a, body)
    }

    public var keyCounts: (accounts: Int, pairs: Int, entities: Int) {
        (accounts.count, pairs.count, entities.count)
    }
}

struct PairKey: Hashable, Sendable {
    var debtor: Token
    var creditor: Token
}

/// A dictionary split over 64 mutex-guarded shards.
final class ShardedMap<Key: Hashable & Sendable, Value: Sendable & DefaultConstructible>: Sendable {
    static var shardCount: Int { 64 }
    final class Shard: Sendable {
        let map = Mutex<[Key: Value]>([:])
    }

    let shards: [Shard]

    init() {
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    func with<R: Sendable>(_ key: Key, shard: UInt64, _ body: (inout Value) -> R) -> R {
        shards[Int(shard & UInt64(Self.shardCount - 1))].map.withLock { map in
            body(&map[key, default: Value()])
        }
    }

    var count: Int { shards.reduce(0) { $0 + $1.map.withLock { $0.count } } }
}

protocol DefaultConstructible { init() }
extension AccountState: DefaultConstructible {}
extension PairState: DefaultConstructible {}
extension EntityState: DefaultConstructible {}
