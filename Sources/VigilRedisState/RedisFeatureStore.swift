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
    /// How long a record group remembers that it applied a payment (its marker key's expiry): the other bank's
    /// request for the payment, or its retry after a crash, within this time is not counted again.
    public let appliedWindowMillis: Int64 = 600_000
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
        try await update([keys.account(account)], marker: keys.applied(account, applying)) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
            var state = try records[0].map(FeatureStateCoding.decodeAccount) ?? AccountState()
            let result = body(&state)
            records[0] = FeatureStateCoding.encode(state)
            return result
        }
    }

    public func withDebtor<R: Sendable>(
        _ debtor: Token, paying creditor: Token, applying: Application, _ body: (inout AccountState, inout PairState) -> R
    ) async throws(StateStoreError) -> R {
        try await update([keys.account(debtor), keys.pair(debtor, creditor)], marker: keys.applied(debtor, applying)) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
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
        try await update([keys.entity(entity)], marker: keys.applied(entity, applying)) { (records: inout [[UInt8]?]) throws(StateStoreError) -> R in
            var state = try records[0].map(FeatureStateCoding.decodeEntity) ?? EntityState()
            let result = body(&state)
            records[0] = FeatureStateCoding.encode(state)
            return result
        }
    }

    /// The compare-and-set loop over records in one slot. `change` gets the records' bytes (nil: absent) without
    /// their stamps and leaves the new bytes in place. `marker` (in the same slot) says the payment was applied to
    /// these records: if it exists, `change` runs on the records as they are and nothing is written; the script that
    /// writes the records sets it, for ``appliedWindowMillis``.
    func update<R>(
        _ names: [String], marker: String, _ change: (inout [[UInt8]?]) throws(StateStoreError) -> R
    ) async throws(StateStoreError) -> R {
        let keyArguments = names.map { RedisArgument($0) }
        let markerArgument = RedisArgument(marker)
        var stored: [RedisValue]
        do {
            let reply = try await client.send(RedisCommand([RedisArgument("MGET")] + keyArguments + [markerArgument], key: keyArguments[0]))
            stored = reply.array ?? []
        } catch {
            counters.failure()
            throw StateStoreError(.unavailable, "the feature store did not answer: \(error.code)")
        }
        counters.roundTrip()
        guard stored.count == names.count + 1 else { throw StateStoreError(.corrupt, "the feature store answered MGET with \(stored.count) values") }
        var applied = !stored[names.count].isNull
        stored.removeLast()
        for attempt in 0..<maxAttempts {
            var stamps: [[UInt8]] = []
            var records: [[UInt8]?] = []
            for value in stored {
                let (stamp, record) = try Self.split(value)
                stamps.append(stamp)
                records.append(record)
            }
            if applied {
                counters.alreadyApplied()
                return try change(&records)
            }
            let result = try change(&records)
            var arguments = [RedisArgument(String(idleExpiryMillis)), RedisArgument(String(appliedWindowMillis))]
            for (stamp, record) in zip(stamps, records) {
                arguments.append(RedisArgument(ByteBuffer(bytes: stamp)))
                arguments.append(RedisArgument(ByteBuffer(bytes: Self.newStamp() + (record ?? []))))
            }
            let reply: RedisValue
            do {
                reply = try await client.eval(Self.compareAndSet, keys: keyArguments + [markerArgument], arguments: arguments)
            } catch {
                counters.failure()
                throw StateStoreError(.unavailable, "the feature store did not answer: \(error.code)")
            }
            counters.roundTrip()
            guard let parts = reply.array, let first = parts.first?.int, parts.count == names.count + 1 || parts.count == 1 else {
                throw StateStoreError(.corrupt, "the feature store's compare-and-set gave an unexpected answer")
            }
            if first == 1 { return result }
            // 0: a record changed meanwhile; 2: the payment was applied meanwhile (by the other bank's request).
            applied = first == 2
            stored = Array(parts.dropFirst())
            guard stored.count == names.count else { throw StateStoreError(.corrupt, "the feature store's compare-and-set gave an unexpected answer") }
            guard attempt + 1 < maxAttempts else { break }
            if applied { continue }
            counters.retry()
            // Writers that met on one record spread out (random, doubling up to 6.4 ms) so that one of them wins.
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...(100 << min(attempt, 6)))))
        }
        counters.contended()
        throw StateStoreError(.contended, "other nodes changed the record on each of \(maxAttempts) attempts")
    }

    /// A stored value's stamp (empty when absent) and record bytes.
    static func split(_ value: RedisValue) throws(StateStoreError) -> (stamp: [UInt8], record: [UInt8]?) {
        switch value {
        case .bulkString(nil), .array(nil): return ([], nil)
        case .bulkString(let buffer?):
            let bytes = Array(buffer.readableBytesView)
            // The script answers an absent record as an empty string.
            if bytes.isEmpty { return ([], nil) }
            guard bytes.count > 8 else { throw StateStoreError(.corrupt, "a stored feature record is shorter than its stamp") }
            return (Array(bytes[0..<8]), Array(bytes[8...]))
        default:
            throw StateStoreError(.corrupt, "a stored feature record is not a string")
        }
    }

    static func newStamp() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    /// KEYS: the records, then the payment's marker. ARGV[1]: the records' expiry in ms, ARGV[2]: the marker's; then
    /// per record its expected stamp ('' = absent) and its new value. Answers {2, records} when the marker exists
    /// (nothing written), {0, records} when a record changed (nothing written), else writes every record and the
    /// marker and answers {1}.
    static let compareAndSet = RedisScript(
        """
        local n = #KEYS - 1
        local current = {}
        local same = true
        for i = 1, n do
          local value = redis.call('GET', KEYS[i])
          current[i] = value or ''
          if value then
            if string.sub(value, 1, 8) ~= ARGV[2 * i + 1] then same = false end
          elseif ARGV[2 * i + 1] ~= '' then
            same = false
          end
        end
        local applied = redis.call('EXISTS', KEYS[n + 1]) == 1
        if applied or not same then
          local answer = {applied and 2 or 0}
          for i = 1, n do answer[i + 1] = current[i] end
          return answer
        end
        for i = 1, n do redis.call('SET', KEYS[i], ARGV[2 * i + 2], 'PX', ARGV[1]) end
        redis.call('SET', KEYS[n + 1], '1', 'PX', ARGV[2])
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
    /// The marker that the records of `token` (in its slot) applied a payment: `PREFIX x{T}` and the application.
    public func applied(_ token: Token, _ application: Application) -> String {
        prefix + "x{" + Self.tag(token) + "}" + Self.hex(application.word)
    }
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

    /// One round trip to a store on Redis, counted; a failure is counted and becomes the store's `unavailable`, naming
    /// the store (`"the duplicate store"`) and the client's error code, never a key or a value.
    func roundTrip(to store: String, _ call: () async throws(RedisError) -> RedisValue) async throws(StateStoreError) -> RedisValue {
        do {
            let reply = try await call()
            roundTrip()
            return reply
        } catch {
            failure()
            throw StateStoreError(.unavailable, "\(store) did not answer: \(error.code)")
        }
    }

    var snapshot: RedisStateStatistics {
        RedisStateStatistics(
            roundTrips: roundTrips.load(ordering: .relaxed), retries: retries.load(ordering: .relaxed),
            contended: contendedCount.load(ordering: .relaxed), failures: failures.load(ordering: .relaxed),
            alreadyApplied: applied.load(ordering: .relaxed)
        )
    }
}
