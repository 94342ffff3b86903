public import VigilDomain
import Synchronization

/// Remembers each tenant's payment ids for a retention window, so an exact retry gets the original answer.
///
/// A first request reserves its id before scoring; a concurrent second request with the same id sees the
/// reservation and is told to retry rather than being scored twice.
public final class DuplicateIndex: Sendable {
    public enum Reservation: Sendable, Equatable {
        case reserved
        case duplicate(ScoreResponse)
        case inProgress
    }

    enum Entry {
        case pending
        case done(ScoreResponse, atMillis: Int64)
    }

    struct Shard {
        var entries: [Key: Entry] = [:]
        /// Completed ids in the order they were recorded, for expiry.
        var order: [(key: Key, atMillis: Int64)] = []
        var orderHead = 0

        mutating func expire(before cutoff: Int64) {
            while orderHead < order.count, order[orderHead].atMillis < cutoff {
                let (key, at) = order[orderHead]
                if case .done(_, let recorded)? = entries[key], recorded == at { entries[key] = nil }
                orderHead += 1
            }
            if orderHead > 1024, orderHead * 2 > order.count {
                order.removeFirst(orderHead)
                orderHead = 0
            }
        }
    }

    struct Key: Hashable {
        var tenant: String
        var paymentId: String
    }

    final class Lock: Sendable {
        let shard = Mutex(Shard())
    }

    public let retentionMillis: Int64
    let locks: [Lock]

    public init(retentionSeconds: Int64 = 48 * 3600) {
        self.retentionMillis = retentionSeconds * 1000
        self.locks = (0..<32).map { _ in Lock() }
    }

    func shard(_ key: Key) -> Lock {
        var hasher = Hasher()
        hasher.combine(key)
        return locks[Int(UInt(bitPattern: hasher.finalize()) % UInt(locks.count))]
    }

    /// Reserves `(tenant, paymentId)` unless it is already known.
    public func reserve(tenant: String, paymentId: String, nowMillis: Int64) -> Reservation {
        let key = Key(tenant: tenant, paymentId: paymentId)
        return shard(key).shard.withLock { shard in
            shard.expire(before: nowMillis - retentionMillis)
            switch shard.entries[key] {
            case .pending?: return .inProgress
            case .done(let response, _)?: return .duplicate(response)
            case nil:
                shard.entries[key] = .pending
                return .reserved
            }
        }
    }

    /// Records the answer for a reserved id (or, during recovery, for an id read from the log).
    public func record(tenant: String, paymentId: String, response: ScoreResponse, atMillis: Int64) {
        let key = Key(tenant: tenant, paymentId: paymentId)
        shard(key).shard.withLock { shard in
            shard.entries[key] = .done(response, atMillis: atMillis)
            shard.order.append((key, atMillis))
        }
    }

    /// Releases a reservation whose scoring failed, so a retry can score it.
    public func release(tenant: String, paymentId: String) {
        let key = Key(tenant: tenant, paymentId: paymentId)
        shard(key).shard.withLock { shard in
            if case .pending? = shard.entries[key] { shard.entries[key] = nil }
        }
    }

    public var count: Int { locks.reduce(0) { $0 + $1.shard.withLock { $0.entries.count } } }
}
