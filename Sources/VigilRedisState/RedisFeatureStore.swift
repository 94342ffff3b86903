import NIOCore
public import VigilDomain
public import VigilFeatures
public import VigilRedis
import Synchronization

/// Feature state on Valkey/Redis, for nodes that share it.
///
/// Each record is one string key: an 8-byte random stamp, then ``FeatureStateCoding``'s bytes. An update reads the
/// records (`MGET`), runs the extractor's `body` on them in this process and writes them back with one script that
/// compares the stamps first (compare-and-set): if another node wrote a record in between, the script writes nothing
/// and returns the newer records, and `body` runs again on them, up to ``maxAttempts`` times (each retry is counted in
/// ``statistics``). So two nodes scoring payments of one account at the same moment lose no update, and the feature
/// values are those `InMemoryFeatureStore` gives for the same order of payments. Writers that met wait a random,
/// doubling moment before they retry, so a burst on one account settles instead of livelocking.
///
/// Keys (``KeySpace``): an account `PREFIX a{T}`, a debtor's relationship `PREFIX p{T}C`, where `T` is the account's
/// token (first 128 bits, hex) in a hash tag and `C` the creditor's 64-bit short token, so one payment's debtor and
/// relationship records sit in one cluster slot and change in one script; a device or IP `PREFIX e{T}`. Every write
/// sets the key's expiry to the idle expiry, so an account no payment touches for that long is forgotten and the
/// server's memory stays bounded.
public final class RedisFeatureStore: FeatureStore {
    public let client: RedisClient
    public let keys: KeySpace
    /// Expiry of a record after its last update, in milliseconds.
    public let idleExpiryMillis: Int64
    /// Attempts of one compare-and-set before the update fails as contended. An attempt fails only because another
    /// update of the record succeeded in between, so with fewer concurrent updates of one record than this, every
    /// one of them succeeds.
    public let maxAttempts: Int
    let counters = Counters()

    public init(client: RedisClient, keys: KeySpace, idleExpiryDays: Int, maxAttempts: Int = 64) {
        self.client = client
        self.keys = keys
        self.idleExpiryMillis = Int64(idleExpiryDays) * 86_400_000
        self.maxAttempts = maxAttempts
    }

    public var keyCounts: (accounts: Int, pairs: Int, entities: Int)? { nil }

    public var statistics: RedisStateStatistics { counters.snapshot }

    public func withAccount<R: Sendable>(
        _ account: Token, applying: Application, _ body: (inout AccountState) -> R
    ) async throws(StateStoreError) -> R {
        try await update([keys.account(account)], applying: applying) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
            var state = try records[0].map(FeatureStateCoding.decodeAccount) ?? AccountState()
            let result = body(&state)
            records[0] = FeatureStateCoding.encode(state)
            return result
        }
    }

    public func withDebtor<R: Sendable>(
        _ debtor: Token, paying creditor: Token, applying: Application, _ body: (inout AccountState, inout PairState) -> R
    ) async throws(StateStoreError) -> R {
        try await update([keys.account(debtor), keys.pair(debtor, creditor)], applying: applying) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
            var state = try records[0].map(FeatureStateCoding.decodeAccount) ?? AccountState()
            var pair = try records[1].map(FeatureStateCoding.decodePair) ?? PairState()
            let result = body(&state, &pair)
            records[0] = FeatureStateCoding.encode(state)
            records[1] = FeatureStateCoding.encode(pair)
            return result
        }
    }

    public func withEntity<R: Sendable>(
        _ entity: Token, applying: Application, _ body: (inout EntityState) -> R
    ) async throws(StateStoreError) -> R {
        try await update([keys.entity(entity)], applying: applying) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
            var state = try records[0].map(FeatureStateCoding.decodeEntity) ?? EntityState()
            let result = body(&state)
            records[0] = FeatureStateCoding.encode(state)
            return result
        }
    }

    /// The compare-and-set loop over records in one slot. `change` gets the records' bytes (nil: absent) without
    /// their stamps and leaves the new bytes in place. If the first record lists `applying` among the payments it has
    /// applied, `change` runs on the records as they are and nothing is written.
    func update<R>(
        _ names: [String], applying: Application, _ change: (inout [[UInt8]?]) throws(StateStoreError) -> R
    ) async throws(StateStoreError) -> R {
        let keyArguments = names.map { RedisArgument($0) }
        var stored: [RedisValue]
        do {
            let reply = try await client.send(RedisCommand([RedisArgument("MGET")] + keyArguments, key: keyArguments[0]))
            stored = reply.array ?? []
        } catch {
            counters.failure()
            throw StateStoreError(.unavailable, "the feature store did not answer: \(error.code)")
        }
        counters.roundTrip()
        guard stored.count == names.count else { throw StateStoreError(.corrupt, "the feature store answered MGET with \(stored.count) values") }
        for attempt in 0..<maxAttempts {
            var stamps: [[UInt8]] = []
            var applied: [[UInt64]] = []
            var records: [[UInt8]?] = []
            for value in stored {
                let (stamp, payments, record) = try Self.split(value)
                stamps.append(stamp)
                applied.append(payments)
                records.append(record)
            }
            if applied[0].contains(applying.word) {
                counters.alreadyApplied()
                return try change(&records)
            }
            let result = try change(&records)
            var arguments = [RedisArgument(String(idleExpiryMillis))]
            for ((stamp, payments), record) in zip(zip(stamps, applied), records) {
                arguments.append(RedisArgument(ByteBuffer(bytes: stamp)))
                arguments.append(RedisArgument(ByteBuffer(bytes: Self.value(applying: applying.word, after: payments, record: record ?? []))))
            }
            let reply: RedisValue
            do {
                reply = try await client.eval(Self.compareAndSet, keys: keyArguments, arguments: arguments)
            } catch {
                counters.failure()
                throw StateStoreError(.unavailable, "the feature store did not answer: \(error.code)")
            }
            counters.roundTrip()
            guard let parts = reply.array, let first = parts.first?.int else {
                throw StateStoreError(.corrupt, "the feature store's compare-and-set gave an unexpected answer")
            }
            if first == 1 { return result }
            guard parts.count == names.count + 1 else {
                throw StateStoreError(.corrupt, "the feature store's compare-and-set gave an unexpected answer")
            }
            stored = Array(parts.dropFirst())
            guard attempt + 1 < maxAttempts else { break }
            counters.retry()
            // Writers that met on one record spread out (random, doubling up to 6.4 ms) so that one of them wins.
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...(100 << min(attempt, 6)))))
        }
        counters.contended()
        throw StateStoreError(.contended, "other nodes changed the record on each of \(maxAttempts) attempts")
    }

    /// Payments a record remembers having applied (``Application/word``), newest first.
    static let appliedLimit = 8

    /// A stored value: its stamp (empty when absent), the payments it applied, and its state bytes.
    ///
    /// | bytes | what |
    /// |---|---|
    /// | 8 | stamp (random, new at each write) |
    /// | 1 | n, the payments applied that the record remembers (at most 8) |
    /// | 8 × n | those payments' ``Application/word``s, newest first |
    /// | rest | ``FeatureStateCoding`` bytes |
    static func split(_ value: RedisValue) throws(StateStoreError) -> (stamp: [UInt8], applied: [UInt64], record: [UInt8]?) {
        switch value {
        case .bulkString(nil), .array(nil): return ([], [], nil)
        case .bulkString(let buffer?):
            let bytes = Array(buffer.readableBytesView)
            // The script answers an absent record as an empty string.
            if bytes.isEmpty { return ([], [], nil) }
            guard bytes.count > 9 else { throw StateStoreError(.corrupt, "a stored feature record is shorter than its header") }
            let count = Int(bytes[8])
            let start = 9 + 8 * count
            guard count <= appliedLimit, bytes.count > start else {
                throw StateStoreError(.corrupt, "a stored feature record's list of applied payments does not fit it")
            }
            var applied: [UInt64] = []
            for i in 0..<count {
                var word: UInt64 = 0
                for j in 0..<8 { word |= UInt64(bytes[9 + 8 * i + j]) << UInt64(8 * j) }
                applied.append(word)
            }
            return (Array(bytes[0..<8]), applied, Array(bytes[start...]))
        default:
            throw StateStoreError(.corrupt, "a stored feature record is not a string")
        }
    }

    /// A value to store: a fresh stamp, `word` in front of the payments applied before (the oldest dropped past
    /// ``appliedLimit``), and the record.
    static func value(applying word: UInt64, after earlier: [UInt64], record: [UInt8]) -> [UInt8] {
        let applied = [word] + earlier.prefix(appliedLimit - 1)
        var bytes = newStamp()
        bytes.reserveCapacity(9 + 8 * applied.count + record.count)
        bytes.append(UInt8(applied.count))
        for word in applied {
            for j in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(8 * j))) }
        }
        bytes.append(contentsOf: record)
        return bytes
    }

    static func newStamp() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    /// KEYS: the records. ARGV[1]: expiry in ms; then per key its expected stamp ('' = absent) and its new value.
    /// Writes every key, or none and returns the current values.
    static let compareAndSet = RedisScript(
        """
        local current = {}
        local same = true
        for i = 1, #KEYS do
          local value = redis.call('GET', KEYS[i])
          current[i] = value or ''
          if value then
            if string.sub(value, 1, 8) ~= ARGV[2 * i] then same = false end
          elseif ARGV[2 * i] ~= '' then
            same = false
          end
        end
        if not same then
          local answer = {0}
          for i = 1, #KEYS do answer[i + 1] = current[i] end
          return answer
        end
        for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[2 * i + 1], 'PX', ARGV[1]) end
        return {1}
        """
    )
}

/// How Vigil names its keys on a shared server: a prefix (default `vigil:`), so several deployments or test runs can
/// share one server without meeting.
public struct KeySpace: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "vigil:") {
        self.prefix = prefix
    }

    static func tag(_ token: Token) -> String { hex(token.a) + hex(token.b) }

    static func hex(_ word: UInt64) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public func account(_ token: Token) -> String { prefix + "a{" + Self.tag(token) + "}" }
    public func pair(_ debtor: Token, _ creditor: Token) -> String { prefix + "p{" + Self.tag(debtor) + "}" + Self.hex(creditor.short) }
    public func entity(_ token: Token) -> String { prefix + "e{" + Self.tag(token) + "}" }
    /// A remembered payment id: a 128-bit ``StableHash`` digest of (tenant, id), so the id itself is not a key.
    public func duplicate(_ digest: (UInt64, UInt64)) -> String { prefix + "d:" + Self.hex(digest.0) + Self.hex(digest.1) }
}

/// Counts a shared store keeps for `/metrics`.
public struct RedisStateStatistics: Sendable, Equatable {
    /// Requests to the server (each a round trip).
    public var roundTrips: Int
    /// Compare-and-set attempts repeated because another node changed a record in between.
    public var retries: Int
    /// Updates given up after the bound of attempts.
    public var contended: Int
    /// Requests that failed or timed out.
    public var failures: Int
    /// Updates not applied because the record had applied that payment already (the other bank's request for it, or
    /// a retry after a crash).
    public var alreadyApplied: Int
}

final class Counters: Sendable {
    let roundTrips = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let contendedCount = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let applied = Atomic<Int>(0)

    func roundTrip() { roundTrips.add(1, ordering: .relaxed) }
    func retry() { retries.add(1, ordering: .relaxed) }
    func contended() { contendedCount.add(1, ordering: .relaxed) }
    func failure() { failures.add(1, ordering: .relaxed) }
    func alreadyApplied() { applied.add(1, ordering: .relaxed) }

    var snapshot: RedisStateStatistics {
        RedisStateStatistics(
            roundTrips: roundTrips.load(ordering: .relaxed), retries: retries.load(ordering: .relaxed),
            contended: contendedCount.load(ordering: .relaxed), failures: failures.load(ordering: .relaxed),
            alreadyApplied: applied.load(ordering: .relaxed)
        )
    }
}
