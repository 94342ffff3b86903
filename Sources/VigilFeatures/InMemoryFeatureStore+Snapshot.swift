public import VigilDomain
import Synchronization

/// A consistent copy of an ``InMemoryFeatureStore``'s shards and applied-payment markers, taken with every lock held at
/// once, to be encoded into a snapshot (or decoded from one and swapped in).
///
/// Taking it is cheap (each shard's arrays are shared copy-on-write, not copied); the first change to a shard after it
/// copies that shard's arrays once.
public struct FeatureStoreImage: Sendable {
    var accounts: [AccountTables]
    var entities: [EntityTables]
    var applied: [AppliedPayments.Shard]
}

extension InMemoryFeatureStore {
    /// Copies every shard and every applied-payment marker at one instant: all locks are taken (tables, then markers,
    /// the order scoring takes them), the shards copied by reference, and the locks let go.
    ///
    /// A payment's change to a table and its marker are made under that table's lock, so the image holds a payment's
    /// part and its marker together or neither.
    /// - Performance: The pause is 192 lock acquisitions and as many reference copies: microseconds.
    public func capture() -> FeatureStoreImage {
        var image = FeatureStoreImage(accounts: [], entities: [], applied: [])
        image.accounts.reserveCapacity(Shards<AccountTables>.count)
        image.entities.reserveCapacity(Shards<EntityTables>.count)
        image.applied.reserveCapacity(Shards<AppliedPayments.Shard>.count)
        Self.holding(accounts.shards[...], into: &image.accounts) {
            Self.holding(entities.shards[...], into: &image.entities) {
                Self.holding(applied.shards.shards[...], into: &image.applied) {}
            }
        }
        return image
    }

    /// Replaces the whole state with `image` (a snapshot's, decoded whole beforehand), shard by shard. Call it before
    /// anything scores: it is for recovery.
    public func restore(_ image: FeatureStoreImage) {
        for (shard, tables) in zip(accounts.shards, image.accounts) { shard.value.withLock { $0 = tables } }
        for (shard, tables) in zip(entities.shards, image.entities) { shard.value.withLock { $0 = tables } }
        for (shard, markers) in zip(applied.shards.shards, image.applied) { shard.value.withLock { $0 = markers } }
        applied.newest.store(image.applied.map(\.newest).max() ?? .min, ordering: .relaxed)
    }

    private static func holding<Value: Sendable>(
        _ shards: ArraySlice<Shards<Value>.Shard>, into copies: inout [Value], _ then: () -> Void
    ) {
        guard let first = shards.first else { return then() }
        first.value.withLock { value in
            copies.append(value)
            holding(shards.dropFirst(), into: &copies, then)
        }
    }
}

extension FeatureStoreImage {
    /// The snapshot section's format; a snapshot with another is not read.
    ///
    /// 2: each shard's bytes behind their length, so that the shards decode on all cores; 1 had none.
    /// 3 (issue 14): the long-horizon state, as ``FeatureStateCoding`` format 2 adds it (a debtor's one payment ends
    /// with a new-payee byte, a creditor's with its sender's fingerprint, u32; histories hold the rest in their words).
    /// Format 2 still reads, with the long windows of its histories empty.
    public static let format: UInt32 = 3
    /// The formats this build reads.
    public static let readableFormats: ClosedRange<UInt32> = 2...3

    /// Keys held, by kind, as ``InMemoryFeatureStore/counts`` would report them.
    public var counts: (accounts: Int, pairs: Int, entities: Int) {
        (accounts.reduce(0) { $0 + $1.accountCount }, accounts.reduce(0) { $0 + $1.pairCount }, entities.reduce(0) { $0 + $1.count })
    }

    /// Appends the image's bytes: every shard's tables row by row (so rows, which side tables refer to, keep their
    /// numbers), then the markers, each shard behind its byte length. Tokens' key bits and numbers only: the store
    /// holds nothing else.
    public func encode(into out: inout SnapshotWriter) {
        out.count(accounts.count)
        for tables in accounts { out.lengthPrefixed { Self.encode(tables, &$0) } }
        out.count(entities.count)
        for tables in entities { out.lengthPrefixed { Self.encode(tables, &$0) } }
        out.count(applied.count)
        for shard in applied { out.lengthPrefixed { Self.encode(shard, &$0) } }
    }

    private static func encode(_ tables: AccountTables, _ out: inout SnapshotWriter) {
        Self.encodeKeys(tables.debtors.keys, &out)
        for value in tables.debtors.values { Self.encode(value, &out) }
        Self.encodeKeys(tables.creditors.keys, &out)
        for value in tables.creditors.values { Self.encode(value, &out) }
        Self.encodeKeys(tables.pairs.keys, &out)
        for pair in tables.pairs.values {
            out.int(pair.lastAt)
            out.double(pair.maxAmount)
            out.int(pair.newestMinorUnits)
            out.u32(pair.count)
            out.half(pair.newestCurrency)
            out.byte(pair.hasEarlier ? 1 : 0)
        }
        out.count(tables.earlierPayments.count)
        // By row, so the same state always gives the same bytes.
        for (row, payments) in tables.earlierPayments.sorted(by: { $0.key < $1.key }) {
            out.u32(row)
            out.count(payments.count)
            for payment in payments {
                out.int(payment.minorUnits)
                out.half(payment.age)
                out.half(payment.currency)
            }
        }
        out.count(tables.inBoth)
        out.count(tables.impliedPairs)
    }

    private static func encode(_ tables: EntityTables, _ out: inout SnapshotWriter) {
        Self.encodeKeys(tables.table.keys, &out)
        for entity in tables.table.values {
            out.word(entity.debtor)
            out.int(entity.seen)
        }
        out.count(tables.pool.count)
        for words in tables.pool { out.words(words) }
        out.count(tables.free.count)
        for index in tables.free { out.count(index) }
    }

    private static func encode(_ shard: AppliedPayments.Shard, _ out: inout SnapshotWriter) {
        out.int(shard.newest)
        let live = shard.arrivals[shard.head...]
        out.count(live.count)
        for (at, payment) in live {
            out.int(at)
            out.word(payment)
            out.byte(shard.parts[payment] ?? 0)
        }
    }

    /// Decodes what ``encode(into:)`` wrote into fresh structures, the shards on all cores. Every shard's length is
    /// checked against the bytes before any is decoded, and each must decode to exactly its length.
    /// - Throws: ``SnapshotDecodingError`` for bytes that are not such an image (wrong shard counts, a shard length
    ///   past the bytes or not its shard's, rows out of range, malformed histories).
    /// - Parameter format: the section's format, one of ``readableFormats``.
    public static func decode(_ input: inout SnapshotReader, format: UInt32 = Self.format) throws(SnapshotDecodingError) -> FeatureStoreImage {
        guard readableFormats.contains(format) else { throw SnapshotDecodingError("a feature section of format \(format)") }
        guard try input.count() == Shards<AccountTables>.count else { throw SnapshotDecodingError("an account shard count this build does not use") }
        let accountParts = try input.parts(Shards<AccountTables>.count, what: "account shard")
        guard try input.count() == Shards<EntityTables>.count else { throw SnapshotDecodingError("an entity shard count this build does not use") }
        let entityParts = try input.parts(Shards<EntityTables>.count, what: "entity shard")
        guard try input.count() == Shards<AppliedPayments.Shard>.count else {
            throw SnapshotDecodingError("an applied-payments shard count this build does not use")
        }
        let appliedParts = try input.parts(Shards<AppliedPayments.Shard>.count, what: "applied-payments shard")
        return FeatureStoreImage(
            accounts: try SnapshotReader.decodeConcurrently(accountParts, what: "account shard") { (input: inout SnapshotReader) throws(SnapshotDecodingError) in
                try decodeAccounts(&input, format: format)
            },
            entities: try SnapshotReader.decodeConcurrently(entityParts, what: "entity shard", decodeEntities),
            applied: try SnapshotReader.decodeConcurrently(appliedParts, what: "applied-payments shard", decodeApplied))
    }

    private static func decodeAccounts(_ input: inout SnapshotReader, format: UInt32) throws(SnapshotDecodingError) -> AccountTables {
        var tables = AccountTables()
        var keys = try decodeKeys(&input)
        var outgoing = ContiguousArray<OutgoingState>()
        outgoing.reserveCapacity(keys.count)
        for _ in 0..<keys.count { outgoing.append(try decodeOutgoing(&input, format: format)) }
        tables.debtors = CompactTable(keys: keys, values: outgoing)
        keys = try decodeKeys(&input)
        var incoming = ContiguousArray<IncomingState>()
        incoming.reserveCapacity(keys.count)
        for _ in 0..<keys.count { incoming.append(try decodeIncoming(&input, format: format)) }
        tables.creditors = CompactTable(keys: keys, values: incoming)
        keys = try decodeKeys(&input)
        var pairs = ContiguousArray<StoredPair>()
        pairs.reserveCapacity(keys.count)
        for _ in 0..<keys.count {
            var pair = StoredPair(PairState())
            pair.lastAt = try input.int()
            pair.maxAmount = try input.double()
            pair.newestMinorUnits = try input.int()
            pair.count = try input.u32()
            pair.newestCurrency = try input.half()
            pair.hasEarlier = try input.byte() != 0
            pairs.append(pair)
        }
        tables.pairs = CompactTable(keys: keys, values: pairs)
        let sideRows = try input.count(minimumBytes: 12)
        tables.earlierPayments.reserveCapacity(sideRows)
        for _ in 0..<sideRows {
            let row = try input.u32()
            guard Int(row) < pairs.count else { throw SnapshotDecodingError("recent payments of a pair row that does not exist") }
            let count = try input.count(minimumBytes: 12)
            guard count < PairState.recentLimit else { throw SnapshotDecodingError("too many recent payments of a pair") }
            var payments: [PairState.RecentPayment] = []
            for _ in 0..<count {
                payments.append(PairState.RecentPayment(minorUnits: try input.int(), age: try input.half(), currency: try input.half()))
            }
            tables.earlierPayments[row] = payments
        }
        tables.inBoth = try input.number()
        tables.impliedPairs = try input.number()
        return tables
    }

    private static func decodeEntities(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> EntityTables {
        var tables = EntityTables()
        let keys = try decodeKeys(&input)
        var values = ContiguousArray<StoredEntity>()
        values.reserveCapacity(keys.count)
        for _ in 0..<keys.count { values.append(StoredEntity(debtor: try input.word(), seen: try input.int())) }
        let poolCount = try input.count(minimumBytes: 8)
        for _ in 0..<poolCount {
            let words = try input.words()
            guard words.count % 2 == 0 else { throw SnapshotDecodingError("a device/IP set of odd length") }
            tables.pool.append(words)
        }
        for value in values {
            if let index = value.poolIndex, index >= poolCount { throw SnapshotDecodingError("a device/IP row pointing past its pool") }
        }
        tables.table = CompactTable(keys: keys, values: values)
        let freeCount = try input.count(minimumBytes: 8)
        for _ in 0..<freeCount {
            let index = try input.number()
            guard index < poolCount else { throw SnapshotDecodingError("a free pool slot past the pool") }
            tables.free.append(index)
        }
        return tables
    }

    private static func decodeApplied(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> AppliedPayments.Shard {
        var shard = AppliedPayments.Shard()
        shard.newest = try input.int()
        let count = try input.count(minimumBytes: 17)
        shard.arrivals.reserveCapacity(count)
        shard.parts.reserveCapacity(count)
        for _ in 0..<count {
            let at = try input.int()
            let payment = try input.word()
            let parts = try input.byte()
            shard.arrivals.append((at, payment))
            shard.parts[payment] = parts
        }
        return shard
    }

    private static func encodeKeys(_ keys: ContiguousArray<StateKey>, _ out: inout SnapshotWriter) {
        out.count(keys.count)
        for key in keys {
            out.u32(key.shard)
            out.u32(key.high)
            out.u32(key.low)
        }
    }

    private static func decodeKeys(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> ContiguousArray<StateKey> {
        let count = try input.count(minimumBytes: 12)
        var keys = ContiguousArray<StateKey>()
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let shard = try input.u32()
            let high = try input.u32()
            let low = try input.u32()
            keys.append(StateKey(shard: shard, word: UInt64(high) << 32 | UInt64(low)))
        }
        return keys
    }

    private static func encode(_ amount: StateAmount, _ out: inout SnapshotWriter) {
        out.int(amount.minorUnits)
        out.byte(amount.exponent)
    }

    private static func decodeAmount(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> StateAmount {
        let minor = try input.int()
        let exponent = try input.byte()
        guard exponent <= 4 else { throw SnapshotDecodingError("a currency exponent past 4") }
        return StateAmount(minorUnits: minor, exponent: exponent)
    }

    private static func encode(_ state: OutgoingState, _ out: inout SnapshotWriter) {
        switch state {
        case .none: out.byte(0)
        case .one(let payment):
            out.byte(1)
            out.int(payment.at)
            out.word(payment.creditor)
            encode(payment.amount, &out)
            out.byte(payment.hour)
            out.half(payment.currency)
            out.byte(payment.isNewPayee ? 1 : 0)
        case .many(let history):
            out.byte(2)
            out.words(history.words)
        }
    }

    private static func decodeOutgoing(_ input: inout SnapshotReader, format: UInt32) throws(SnapshotDecodingError) -> OutgoingState {
        switch try input.byte() {
        case 0: return .none
        case 1:
            let at = try input.int()
            let creditor = try input.word()
            let amount = try decodeAmount(&input)
            let hour = try input.byte()
            guard hour < 24 else { throw SnapshotDecodingError("an hour of day past 23") }
            let currency = try input.half()
            let isNewPayee = format >= 3 ? try input.byte() != 0 : true
            return .one(OutgoingPayment(at: at, creditor: creditor, amount: amount, hour: hour, currency: currency, isNewPayee: isNewPayee))
        case 2:
            let history = OutgoingHistory(words: try input.words())
            guard history.isWellFormed else { throw SnapshotDecodingError("a debtor history whose layout does not fit its words") }
            return .many(history)
        default: throw SnapshotDecodingError("an unknown debtor part")
        }
    }

    private static func encode(_ state: IncomingState, _ out: inout SnapshotWriter) {
        switch state {
        case .none: out.byte(0)
        case .one(let payment):
            out.byte(1)
            out.int(payment.at)
            out.word(payment.bank)
            encode(payment.amount, &out)
            out.byte((payment.isFirstTime ? 1 : 0) | (payment.hasBank ? 2 : 0))
            out.u32(payment.sender)
        case .many(let history):
            out.byte(2)
            out.words(history.words)
        }
    }

    private static func decodeIncoming(_ input: inout SnapshotReader, format: UInt32) throws(SnapshotDecodingError) -> IncomingState {
        switch try input.byte() {
        case 0: return .none
        case 1:
            let at = try input.int()
            let bank = try input.word()
            let amount = try decodeAmount(&input)
            let flags = try input.byte()
            let sender = format >= 3 ? try input.u32() : 0
            return .one(IncomingPayment(at: at, bank: bank, amount: amount, isFirstTime: flags & 1 != 0, hasBank: flags & 2 != 0, sender: sender))
        case 2:
            let history = IncomingHistory(words: try input.words())
            guard history.isWellFormed else { throw SnapshotDecodingError("a creditor history whose layout does not fit its words") }
            return .many(history)
        default: throw SnapshotDecodingError("an unknown creditor part")
        }
    }
}
