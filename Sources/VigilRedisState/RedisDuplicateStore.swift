import Foundation
import NIOCore
public import VigilDomain
public import VigilEngine
public import VigilFeatures
public import VigilRedis

/// The duplicate check on Valkey/Redis, shared by every node.
///
/// One key per (tenant, payment id) (``KeySpace/duplicate(_:)``: a digest, so ids are not keys). A reservation is one
/// script: it sets `P` and the fingerprint with `SET`-if-absent semantics and a short expiry (``pendingMillis``), or
/// returns what is there, so of two requests with one id on any nodes exactly one reserves it. The answer replaces
/// the reservation as `A`, the fingerprint and the answer's JSON, kept for the retention from the time it was
/// received; a retry then gets it back. A reservation whose node died expires after ``pendingMillis``.
public final class RedisDuplicateStore: DuplicateStore {
    public let client: RedisClient
    public let keys: KeySpace
    public let retentionMillis: Int64
    /// How long a reservation holds without an answer (a node that died mid-request).
    public let pendingMillis: Int64
    let counters = Counters()

    public init(client: RedisClient, keys: KeySpace, retentionSeconds: Int64, pendingSeconds: Int64 = 30) {
        self.client = client
        self.keys = keys
        self.retentionMillis = retentionSeconds * 1000
        self.pendingMillis = pendingSeconds * 1000
    }

    public var entryCount: Int? { nil }

    public var statistics: RedisStateStatistics { counters.snapshot }

    func key(tenant: String, paymentId: String) -> RedisArgument {
        var low = StableHash(0x5649_4749_4C44_31)
        low.combine(tenant)
        low.combine(paymentId)
        var high = StableHash(0x5649_4749_4C44_32)
        high.combine(tenant)
        high.combine(paymentId)
        return RedisArgument(keys.duplicate((low.value, high.value)))
    }

    static func hex(_ fingerprint: UInt64) -> String { KeySpace.hex(fingerprint) }

    public func reserve(
        tenant: String, paymentId: String, fingerprint: UInt64, nowMillis: Int64
    ) async throws(StateStoreError) -> DuplicateIndex.Reservation {
        let reply = try await run(
            Self.reserveScript, key: key(tenant: tenant, paymentId: paymentId),
            arguments: [RedisArgument("P" + Self.hex(fingerprint)), RedisArgument(String(pendingMillis))]
        )
        guard case .bulkString(let buffer) = reply else { throw StateStoreError(.corrupt, "the duplicate store answered a reservation unexpectedly") }
        guard let buffer else { return .reserved }
        let bytes = Array(buffer.readableBytesView)
        guard bytes.count >= 17, bytes[0] == UInt8(ascii: "P") || bytes[0] == UInt8(ascii: "A") else {
            throw StateStoreError(.corrupt, "a remembered payment id holds an unknown value")
        }
        if bytes[0] == UInt8(ascii: "P") { return .inProgress }
        guard String(decoding: bytes[1..<17], as: UTF8.self) == Self.hex(fingerprint) else { return .reused }
        do {
            var answer = try EventCoding.decodeResponse(Array(bytes[17...]))
            answer.paymentId = paymentId
            return .duplicate(answer)
        } catch {
            throw StateStoreError(.corrupt, "a remembered answer does not decode: \(error.code)")
        }
    }

    public func record(
        tenant: String, paymentId: String, fingerprint: UInt64, response: ScoreResponse, atMillis: Int64
    ) async throws(StateStoreError) {
        let remaining = atMillis + retentionMillis - Self.nowMillis()
        guard remaining > 0 else { return }
        var value = ByteBuffer(string: "A" + Self.hex(fingerprint))
        value.writeBytes(EventCoding.encode(response))
        _ = try await send(RedisCommand(
            ["SET", key(tenant: tenant, paymentId: paymentId), RedisArgument(value), "PX", RedisArgument(String(remaining))], key: nil
        ).routed())
    }

    public func release(tenant: String, paymentId: String) async {
        _ = try? await run(Self.releaseScript, key: key(tenant: tenant, paymentId: paymentId), arguments: [])
    }

    static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    func run(_ script: RedisScript, key: RedisArgument, arguments: [RedisArgument]) async throws(StateStoreError) -> RedisValue {
        try await counters.roundTrip(to: "the duplicate store") { () async throws(RedisError) in try await client.eval(script, keys: [key], arguments: arguments) }
    }

    func send(_ command: RedisCommand) async throws(StateStoreError) -> RedisValue {
        try await counters.roundTrip(to: "the duplicate store") { () async throws(RedisError) in try await client.send(command) }
    }

    /// KEYS[1]: the id's key. ARGV: the reservation value, its expiry in ms. Nil when reserved, else the value held.
    static let reserveScript = RedisScript(
        """
        local value = redis.call('GET', KEYS[1])
        if value then return value end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return false
        """
    )

    /// Deletes the key only while it is a reservation, never a recorded answer.
    static let releaseScript = RedisScript(
        """
        local value = redis.call('GET', KEYS[1])
        if value and string.sub(value, 1, 1) == 'P' then redis.call('DEL', KEYS[1]) end
        return 1
        """
    )
}

extension RedisCommand {
    /// The command routed by its first key (the argument after the name).
    func routed() -> RedisCommand { RedisCommand(arguments, key: arguments.count > 1 ? arguments[1] : nil) }
}
