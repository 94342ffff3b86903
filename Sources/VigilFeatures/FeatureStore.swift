public import VigilDomain
import Synchronization

/// Where feature state lives. Each call reads and updates its keys atomically.
///
/// The embedded implementation is `InMemoryFeatureStore`. A shared one (Valkey/Redis, in the `VigilRedisState`
/// adapter) reads the records, runs `body` on them and writes them back only if no other node changed them meanwhile,
/// running `body` again on the newer state if one did: so `body` must be a pure function of the state it is handed
/// (the extractor's are), and its effect applies exactly once. Calls fail only for a shared store
/// (``StateStoreError``): then nothing of that call was written.
///
/// Each call names the payment it applies (``Application``). A store applies one payment to one record once: when
/// the record has applied it already (the other bank of the payment scored it first, or a node died after counting
/// it but before logging it and the payment came back as a retry), `body` runs on a copy and nothing is written.
/// So the consortium counts a payment once, whoever asks and however often.
public protocol FeatureStore: Sendable {
    /// The account's state, in whatever roles it has.
    func withAccount<R: Sendable>(_ account: Token, applying: Application, _ body: (inout AccountState) -> R) async throws(StateStoreError) -> R
    /// The debtor account's state and its relationship with `creditor`, together.
    func withDebtor<R: Sendable>(
        _ debtor: Token, paying creditor: Token, applying: Application, _ body: (inout AccountState, inout PairState) -> R
    ) async throws(StateStoreError) -> R
    func withEntity<R: Sendable>(_ entity: Token, applying: Application, _ body: (inout EntityState) -> R) async throws(StateStoreError) -> R
    /// Number of keys held, by kind, where the store counts them itself; nil for a shared store (ask the server).
    var keyCounts: (accounts: Int, pairs: Int, entities: Int)? { get }
}

/// One payment's update of one of its records: the payment's ``TokenizedPayment/consortiumIdentity`` and which of its
/// records (each payment touches at most one of each part).
public struct Application: Sendable, Hashable {
    public enum Part: UInt8, Sendable {
        case debtor = 1, creditor = 2, device = 4, ip = 8
        /// The customer's record (keyed by the customer token): the `customer.*` features, since issue 13.
        case customer = 16
    }

    public var payment: UInt64
    public var part: Part
    /// The payment's feature time, seconds since the epoch: the in-process store forgets applications by it, so a
    /// replay of months of history holds only the last minutes of them.
    public var at: Int64

    public init(payment: UInt64, part: Part, at: Int64) {
        self.payment = payment
        self.part = part
        self.at = at
    }

    /// One word naming both, as a shared store keeps it in the record.
    public var word: UInt64 { payment ^ UInt64(part.rawValue) &* 0x9E37_79B9_7F4A_7C15 }
}

/// Why a shared store (feature state, duplicate check) could not apply an update. Nothing of the failed call was
/// written.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The store did not answer in time, or the connection failed.
        case unavailable
        /// Other nodes changed the record on every attempt, up to the bound.
        case contended
        /// The stored record could not be read (a foreign or damaged value).
        case corrupt
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// Feature state in process memory, sharded by token so concurrent payments rarely share a lock.
///
/// Each shard keeps compact tables (`CompactTable`). An account's debtor part and creditor part sit in two tables, so
/// an account holds only the parts of the roles it has played; a debtor's relationships sit in a third table of the
/// same shard, under the same lock. Devices and IPs have shards of their own.
public final class InMemoryFeatureStore: FeatureStore {
    let accounts = Shards { AccountTables() }
    let entities = Shards { EntityTables() }
    /// The payments applied in the last ``AppliedPayments/windowSeconds``, so the other bank's request for one of
    /// them reads the state without counting it again.
    let applied = AppliedPayments()

    public init() {}

    public func withAccount<R: Sendable>(_ account: Token, applying: Application, _ body: (inout AccountState) -> R) -> R {
        let key = StateKey(account)
        // Claimed under the table's lock, so a snapshot (which holds every lock at once) never sees a claim whose
        // change is not yet in the table.
        return accounts.with(shard: key.shard) { tables in
            guard applied.claim(applying) else { return tables.read(key, paying: nil) { state, _ in body(&state) } }
            return tables.with(key, paying: nil) { state, _ in body(&state) }
        }
    }

    public func withDebtor<R: Sendable>(
        _ debtor: Token, paying creditor: Token, applying: Application, _ body: (inout AccountState, inout PairState) -> R
    ) -> R {
        let key = StateKey(debtor)
        return accounts.with(shard: key.shard) { tables in
            guard applied.claim(applying) else { return tables.read(key, paying: creditor.short, body) }
            return tables.with(key, paying: creditor.short, body)
        }
    }

    public func withEntity<R: Sendable>(_ entity: Token, applying: Application, _ body: (inout EntityState) -> R) -> R {
        let key = StateKey(entity)
        return entities.with(shard: key.shard) { tables in
            guard applied.claim(applying) else { return tables.read(key, body) }
            return tables.with(key, body)
        }
    }

    public var keyCounts: (accounts: Int, pairs: Int, entities: Int)? { counts }

    /// Number of keys held, by kind.
    public var counts: (accounts: Int, pairs: Int, entities: Int) {
        (accounts.sum { $0.accountCount }, accounts.sum { $0.pairCount }, entities.sum { $0.count })
    }

    /// The bytes the store holds by kind, by its own count: tables (index, keys, values) and the word arrays of
    /// histories, each rounded up as glibc's allocator does. It leaves out the allocator's free memory and
    /// fragmentation, which a reading of resident memory includes.
    public func footprint() -> FeatureStoreFootprint {
        FeatureStoreFootprint(
            debtorParts: accounts.sum { $0.debtorBytes },
            creditorParts: accounts.sum { $0.creditorBytes },
            pairs: accounts.sum { $0.pairBytes },
            entities: entities.sum { $0.bytes }
        )
    }
}

/// Bytes held by `InMemoryFeatureStore`, by kind of key.
public struct FeatureStoreFootprint: Sendable, Equatable {
    /// Accounts' debtor state (the debtor table and its histories).
    public var debtorParts: Int
    /// Accounts' creditor state.
    public var creditorParts: Int
    /// Debtor→creditor relationships stored in their own rows.
    public var pairs: Int
    /// Devices and IPs.
    public var entities: Int

    public var accounts: Int { debtorParts + creditorParts }
    public var total: Int { accounts + pairs + entities }
}

/// The tables of an account shard: debtor parts, creditor parts and the debtors' relationships.
///
/// A debtor with one payment keeps that payment (`OutgoingState.one`), which implies its only relationship, so the
/// relationship has no row of its own. A relationship is stored in `pairs` once its state differs from what the
/// debtor's state implies, and a row, once written, takes precedence. The state of a relationship is therefore: its
/// row, else what the debtor's state implies, else empty.
struct AccountTables: Sendable {
    var debtors = CompactTable<OutgoingState>()
    var creditors = CompactTable<IncomingState>()
    var pairs = CompactTable<StoredPair>()
    /// The earlier recent payments of the rows that have some (`StoredPair.hasEarlier`), by row.
    var earlierPayments: [UInt32: [PairState.RecentPayment]] = [:]
    /// Accounts with a row in both `debtors` and `creditors`.
    var inBoth = 0
    /// Relationships held only by implication (a one-payment debtor without a row for its payee).
    var impliedPairs = 0

    var accountCount: Int { debtors.count + creditors.count - inBoth }
    var pairCount: Int { pairs.count + impliedPairs }

    var debtorBytes: Int {
        debtors.values.reduce(debtors.bytes) { total, part in
            if case .many(let history) = part { total + Allocation.bytes(of: history.words) } else { total }
        }
    }

    var creditorBytes: Int {
        creditors.values.reduce(creditors.bytes) { total, part in
            if case .many(let history) = part { total + Allocation.bytes(of: history.words) } else { total }
        }
    }

    /// The rows, plus the side table: its entries (about 1.5 slots of key and value each) and their arrays.
    var pairBytes: Int {
        earlierPayments.values.reduce(pairs.bytes + earlierPayments.count * 3 / 2 * 12) { $0 + Allocation.bytes(of: $1) }
    }

    /// The relationship in `row`, its earlier recent payments moved out of the side table.
    mutating func takePair(_ row: Int) -> PairState {
        let stored = pairs.values[row]
        return PairState(stored, earlier: stored.hasEarlier ? earlierPayments.removeValue(forKey: UInt32(row)) ?? [] : [])
    }

    mutating func putPair(_ pair: PairState, _ row: Int) {
        pairs.values[row] = StoredPair(pair)
        if !pair.earlier.isEmpty { earlierPayments[UInt32(row)] = pair.earlier }
    }

    mutating func addPair(_ key: StateKey, _ pair: PairState) {
        putPair(pair, pairs.add(key, StoredPair(pair)))
    }

    /// The key of the relationship between the debtor `debtor` and the creditor whose `Token.short` is `creditor`.
    ///
    /// It shares the debtor's shard bits, so it lands in the debtor's shard, and for one debtor it is one to one with
    /// the creditor's 64-bit `short`: two payees of a debtor share a key only if their `short`s collide (odds about
    /// 10^-14 for a debtor with a thousand payees).
    static func pairKey(_ debtor: StateKey, _ creditor: UInt64) -> StateKey {
        StateKey(shard: debtor.shard, word: debtor.word ^ (creditor &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Hands `body` copies of the account's parts and relationship; what it changes is dropped (the parts go back
    /// as they were, so nothing is added or changed).
    mutating func read<R>(_ key: StateKey, paying creditor: UInt64?, _ body: (inout AccountState, inout PairState) -> R) -> R {
        with(key, paying: creditor) { state, pair in
            var (state, pair) = (state, pair)
            return body(&state, &pair)
        }
    }

    /// Hands `body` the account's parts (and, for a debtor, the relationship with `creditor`), moved out of the
    /// tables so that their storage stays uniquely referenced and changes in place, then puts them back; a part that
    /// was empty is stored only if `body` filled it.
    mutating func with<R>(_ key: StateKey, paying creditor: UInt64?, _ body: (inout AccountState, inout PairState) -> R) -> R {
        var state = AccountState()
        let debtorRow = debtors.row(of: key)
        let creditorRow = creditors.row(of: key)
        if let debtorRow { swap(&state.outgoing, &debtors.values[debtorRow]) }
        if let creditorRow { swap(&state.incoming, &creditors.values[creditorRow]) }
        let before = state.outgoing.onlyPayment
        let impliedBefore = isImpliedOnly(key, before)

        var pair = PairState()
        var pairRow: Int?
        if let creditor {
            pairRow = pairs.row(of: Self.pairKey(key, creditor))
            if let pairRow {
                pair = takePair(pairRow)
            } else if let implied = state.outgoing.impliedPair(with: creditor) {
                pair = implied
            }
        }

        let result = body(&state, &pair)

        if let creditor {
            if let pairRow {
                putPair(pair, pairRow)
            } else if pair != state.outgoing.impliedPair(with: creditor) ?? PairState() {
                addPair(Self.pairKey(key, creditor), pair)
            }
        }
        // A relationship the old state implied, or the new one implies, keeps the state it had unless it was
        // `body`'s to change: write a row where the implication no longer gives it.
        let after = state.outgoing.onlyPayment
        if let payee = before?.creditor, payee != creditor { keepImplied(key, payee, before: before, after: state.outgoing) }
        if let payee = after?.creditor, payee != creditor, payee != before?.creditor {
            keepImplied(key, payee, before: before, after: state.outgoing)
        }
        impliedPairs += (isImpliedOnly(key, state.outgoing.onlyPayment) ? 1 : 0) - (impliedBefore ? 1 : 0)

        var isDebtor = debtorRow != nil
        var isCreditor = creditorRow != nil
        if let debtorRow {
            swap(&state.outgoing, &debtors.values[debtorRow])
        } else if state.outgoing != .none {
            _ = debtors.add(key, state.outgoing)
            isDebtor = true
        }
        if let creditorRow {
            swap(&state.incoming, &creditors.values[creditorRow])
        } else if state.incoming != .none {
            _ = creditors.add(key, state.incoming)
            isCreditor = true
        }
        if isDebtor, isCreditor, debtorRow == nil || creditorRow == nil { inBoth += 1 }
        return result
    }

    /// Writes a row for the relationship with `payee` when the debtor's new state no longer implies what it had.
    mutating func keepImplied(_ debtor: StateKey, _ payee: UInt64, before: OutgoingPayment?, after: OutgoingState) {
        let had = before.flatMap { $0.creditor == payee ? PairState(implying: $0) : nil } ?? PairState()
        if had != after.impliedPair(with: payee) ?? PairState(), pairs.row(of: Self.pairKey(debtor, payee)) == nil {
            addPair(Self.pairKey(debtor, payee), had)
        }
    }

    /// Whether `payment`, a one-payment debtor's payment, implies a relationship that has no row.
    func isImpliedOnly(_ debtor: StateKey, _ payment: OutgoingPayment?) -> Bool {
        guard let payment else { return false }
        return pairs.row(of: Self.pairKey(debtor, payment.creditor)) == nil
    }
}

/// The tables of a device/IP shard: a 16-byte row per entity, and a pool of word arrays for the entities seen with
/// more than one debtor.
struct EntityTables: Sendable {
    var table = CompactTable<StoredEntity>()
    var pool: [ContiguousArray<UInt64>] = []
    /// Pool slots no entity uses.
    var free: [Int] = []

    var count: Int { table.count }

    var bytes: Int {
        pool.reduce(table.bytes + pool.capacity * 8 + free.capacity * 8) { $0 + Allocation.bytes(of: $1) }
    }

    /// Hands `body` a copy of the entity's state; what it changes is dropped.
    mutating func read<R>(_ key: StateKey, _ body: (inout EntityState) -> R) -> R {
        with(key) { state in
            var state = state
            return body(&state)
        }
    }

    /// Hands `body` the entity's state, its word array moved out of the pool so it changes in place, then stores it.
    mutating func with<R>(_ key: StateKey, _ body: (inout EntityState) -> R) -> R {
        let row = table.row(of: key) { .none }
        let stored = table.values[row]
        var state = EntityState()
        if let index = stored.poolIndex {
            var words: ContiguousArray<UInt64> = []
            swap(&words, &pool[index])
            state.debtors = .many(words)
        } else if stored != .none {
            state.debtors = .one(debtor: stored.debtor, seen: stored.seen)
        }
        let result = body(&state)
        switch state.debtors {
        case .none:
            table.values[row] = .none
            if let index = stored.poolIndex { free.append(index) }
        case .one(let debtor, let seen):
            table.values[row] = StoredEntity(debtor: debtor, seen: seen)
            if let index = stored.poolIndex { free.append(index) }
        case .many(var words):
            let index = stored.poolIndex ?? free.popLast() ?? {
                pool.append([])
                return pool.count - 1
            }()
            swap(&words, &pool[index])
            table.values[row] = .pooled(index)
        }
        return result
    }
}

/// Values split over 64 mutex-guarded shards, chosen by the low bits of a key word.
final class Shards<Value: Sendable>: Sendable {
    static var count: Int { 64 }

    final class Shard: Sendable {
        let value: Mutex<Value>
        init(_ value: sending Value) { self.value = Mutex(value) }
    }

    let shards: [Shard]

    init(_ make: () -> Value) {
        var shards: [Shard] = []
        for _ in 0..<Self.count { shards.append(Shard(make())) }
        self.shards = shards
    }

    func with<R: Sendable>(shard: UInt32, _ body: (inout Value) -> R) -> R {
        shards[Int(shard) & (Self.count - 1)].value.withLock { body(&$0) }
    }

    func sum(_ measure: (Value) -> Int) -> Int {
        shards.reduce(0) { total, shard in total + shard.value.withLock { measure($0) } }
    }
}

/// How many bytes glibc's allocator takes for a Swift array's storage: a 32-byte header and the capacity, plus
/// malloc's 8-byte header, in 16-byte steps. An empty array shares one static storage and takes nothing.
enum Allocation {
    static func bytes<Element>(of array: ContiguousArray<Element>) -> Int {
        array.isEmpty ? 0 : storage(array.capacity * MemoryLayout<Element>.stride)
    }

    static func bytes<Element>(of array: [Element]) -> Int {
        array.isEmpty ? 0 : storage(array.capacity * MemoryLayout<Element>.stride)
    }

    static func storage(_ elementBytes: Int) -> Int { (32 + elementBytes + 8 + 15) & ~15 }
}

/// The payments an in-memory store applied lately, by ``Application/payment``, with the parts applied, kept until
/// payments ``windowSeconds`` newer (by feature time, ``Application/at``) have arrived, then forgotten. A payment is
/// stamped with the newest feature time the store had seen when it arrived (its own, unless it is late), so a late
/// payment, created long before it arrived, is remembered for the window after its arrival like any other, and its
/// redelivery moments later is not counted again. One entry per payment (about 40 bytes with the table's overhead):
/// some 25 MB at 1,000 payments a second, and as little during a replay of a long history. The other bank of a payment
/// scores it seconds after the first, so the window is short; a payment the other bank scores later than that is
/// counted again.
final class AppliedPayments: Sendable {
    static let windowSeconds: Int64 = 600

    struct Shard {
        var parts: [UInt64: UInt8] = [:]
        /// Arrivals in order, for expiry: (the store's newest feature time at its arrival, payment); non-decreasing,
        /// as the newest time only grows and a shard appends under its lock.
        var arrivals: [(Int64, UInt64)] = []
        var head = 0
        /// The store's newest feature time at this shard's latest claim (what a snapshot keeps of the store's).
        var newest = Int64.min
    }

    let shards = Shards { Shard() }
    /// The newest feature time any application brought, across shards.
    let newest = Atomic<Int64>(.min)

    /// Whether `application` is the first of its payment and part; records it either way.
    func claim(_ application: Application) -> Bool {
        shards.with(shard: UInt32(truncatingIfNeeded: application.payment)) { shard in
            let newest = max(newest.max(application.at, ordering: .relaxed).newValue, application.at)
            shard.newest = newest
            while shard.head < shard.arrivals.count, shard.arrivals[shard.head].0 <= newest - Self.windowSeconds {
                shard.parts[shard.arrivals[shard.head].1] = nil
                shard.head += 1
            }
            if shard.head > 4096, shard.head * 2 > shard.arrivals.count {
                shard.arrivals.removeFirst(shard.head)
                shard.head = 0
            }
            let bit = application.part.rawValue
            guard let parts = shard.parts[application.payment] else {
                shard.parts[application.payment] = bit
                shard.arrivals.append((newest, application.payment))
                return true
            }
            guard parts & bit == 0 else { return false }
            shard.parts[application.payment] = parts | bit
            return true
        }
    }
}
