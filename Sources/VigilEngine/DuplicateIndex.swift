public import VigilDomain
import VigilFeatures
import Synchronization

/// Remembers each tenant's payment ids for a retention window, so an exact retry gets the original answer.
///
/// A first request reserves its id before scoring; a concurrent second request with the same id sees the
/// reservation and is told to retry rather than being scored twice. Each answer is kept with a 64-bit
/// ``fingerprint(of:)`` of the tokenised payment, so a request that reuses an id for a different payment is told
/// so (``Reservation/reused``) instead of getting the original's answer.
///
/// Entries are compact, because a loaded server remembers every payment of the last 48 hours (864 million at
/// 5,000 payments/s). The id is kept only as a 128-bit digest of (tenant, payment id), and the answer as an
/// 80-byte inline ``Record``: score, decision, processing time, the score id as 16 bytes, the model version as an
/// index into a small table, and up to five reasons as (feature index, contribution in micro-units). The payment
/// id of a duplicate's answer is the one it was asked with (equal by definition), and a reason's code and feature
/// name come back from ``Feature``. Whatever does not fit (rule firings, which are rare, or an answer that would
/// not come back byte for byte, e.g. an event logged by another model with more reasons) goes into a side table,
/// so a duplicate's answer always equals the original's with `duplicate` set.
///
/// - Performance: 142 bytes of resident memory per remembered payment at a million of them (the 88-byte record in
///   1,024-record chunks plus the digest → position table), against 742 when keys and whole responses were kept and
///   133 before the 8-byte payment fingerprint; release-build figure from `vigil-microbench` (`DuplicateMemory.swift`).
public final class DuplicateIndex: Sendable {
    public enum Reservation: Sendable, Equatable {
        case reserved
        case duplicate(ScoreResponse)
        case inProgress
        /// The id was answered for a payment with a different fingerprint: not a retry, and not to be scored.
        case reused
    }

    /// A 128-bit digest of (tenant, payment id): two SipHash-1-3 values under the index's random 128-bit key
    /// (``seed``) over differently prefixed inputs, so the halves are independent.
    ///
    /// Two different ids share a digest with probability 2⁻¹²⁸ (SipHash is a keyed pseudo-random function, and the
    /// key is secret: fresh for a new index, and kept only in this process and in the data directory's snapshots, so
    /// no client can aim for a collision). At 5,000 payments/s each new id meets at most 864 million remembered ones
    /// (48 h), a false duplicate chance of 864·10⁶ / 2¹²⁸ ≈ 2.5·10⁻³⁰ per payment, or about 2·10⁻²¹ over all 864
    /// million payments of the window: negligible.
    struct Key: Hashable {
        var low: UInt64
        var high: UInt64

        init(tenant: String, paymentId: String, seed: (UInt64, UInt64)) {
            var first = SipHash13(key: seed)
            first.combine(0x5649_4749_4C31 as UInt64)
            first.combine(tenant)
            first.combine(paymentId)
            var second = SipHash13(key: seed)
            second.combine(0x5649_4749_4C32 as UInt64)
            second.combine(tenant)
            second.combine(paymentId)
            low = first.finalize()
            high = second.finalize()
        }

        init(low: UInt64, high: UInt64) {
            self.low = low
            self.high = high
        }

        // Already uniformly random: one word is enough for the table.
        func hash(into hasher: inout Hasher) { hasher.combine(low) }
    }

    /// One remembered answer, stored inline (no heap allocation of its own).
    struct Record {
        static let inlineReasons = 5

        var key: Key
        var atMillis: Int64
        /// ``DuplicateIndex/fingerprint(of:)`` of the payment answered.
        var fingerprint: UInt64
        /// The score id's 16 bytes, big-endian halves of its hex digits.
        var scoreId: (UInt64, UInt64)
        /// Contributions in millionths (`assess` rounds them to 1e-6).
        var contributions: (Int32, Int32, Int32, Int32, Int32)
        var processingMicros: UInt32
        var score: UInt16
        var decision: UInt8
        var modelVersion: UInt8
        var reasonCount: UInt8
        var flags: UInt8
        /// Raw values of the reasons' ``Feature``s.
        var features: (UInt8, UInt8, UInt8, UInt8, UInt8)

        /// The side table holds this record's rule firings.
        static let hasRules: UInt8 = 1
        /// The side table holds the whole answer; the inline fields mean nothing.
        static let isWhole: UInt8 = 2
        /// The answer was recorded with `duplicate` already set.
        static let wasDuplicate: UInt8 = 4
    }

    /// What does not fit in a ``Record``.
    enum Extra {
        case rules([RuleFiring])
        case whole(ScoreResponse)
    }

    /// What `reserve` finds under the lock.
    enum Found {
        case reserved, pending, reused
        case record(Record, Extra?)
    }

    struct Shard {
        /// Digest → position of its record, or ``pending`` while its payment is being scored.
        var positions: [Key: Int] = [:]
        /// Records in the order they were recorded, for expiry, in chunks of ``chunkSize`` so that growing never
        /// copies them and expiry frees whole chunks. `chunks[0][0]` is at position `firstPosition`.
        var chunks: [ContiguousArray<Record>] = []
        var firstPosition = 0
        /// Position of the oldest record not yet expired.
        var head = 0
        var extras: [Int: Extra] = [:]

        static let pending = -1
        static let chunkShift = 10
        static let chunkSize = 1 << chunkShift

        var nextPosition: Int {
            firstPosition + (chunks.isEmpty ? 0 : (chunks.count - 1) * Self.chunkSize + chunks[chunks.count - 1].count)
        }

        func record(at position: Int) -> Record {
            let offset = position - firstPosition
            return chunks[offset >> Self.chunkShift][offset & (Self.chunkSize - 1)]
        }

        mutating func append(_ record: Record) -> Int {
            let position = nextPosition
            if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
                var chunk = ContiguousArray<Record>()
                chunk.reserveCapacity(Self.chunkSize)
                chunks.append(chunk)
            }
            chunks[chunks.count - 1].append(record)
            return position
        }

        mutating func expire(before cutoff: Int64) {
            let end = nextPosition
            while head < end {
                let record = record(at: head)
                guard record.atMillis < cutoff else { break }
                // A later record of the same id (recovery may see one twice) owns the digest now.
                if positions[record.key] == head { positions[record.key] = nil }
                if record.flags & (Record.hasRules | Record.isWhole) != 0 { extras[head] = nil }
                head += 1
                if head - firstPosition == Self.chunkSize {
                    chunks.removeFirst()
                    firstPosition += Self.chunkSize
                }
            }
        }
    }

    final class Lock: Sendable {
        let shard = Mutex(Shard())
    }

    public let retentionMillis: Int64
    let locks: [Lock]
    /// The digests' key, random for a new index; a snapshot carries it, so the restored digests still match.
    let seedLow: Atomic<UInt64>
    let seedHigh: Atomic<UInt64>
    /// Model versions seen, so a record holds an index; there are only ever a few.
    let modelVersions = Mutex<[String]>([])

    public init(retentionSeconds: Int64 = 48 * 3600) {
        self.retentionMillis = retentionSeconds * 1000
        self.locks = (0..<32).map { _ in Lock() }
        var generator = SystemRandomNumberGenerator()
        self.seedLow = Atomic(generator.next())
        self.seedHigh = Atomic(generator.next())
    }

    var seed: (UInt64, UInt64) { (seedLow.load(ordering: .relaxed), seedHigh.load(ordering: .relaxed)) }

    func key(tenant: String, paymentId: String) -> Key {
        Key(tenant: tenant, paymentId: paymentId, seed: seed)
    }

    func shard(_ key: Key) -> Lock {
        locks[Int(key.high % UInt64(locks.count))]
    }

    /// Reserves `(tenant, paymentId)` unless it is already known.
    /// - Parameter fingerprint: ``fingerprint(of:)`` of the payment asked about; a remembered answer for another
    ///   fingerprint makes the request ``Reservation/reused``.
    public func reserve(tenant: String, paymentId: String, fingerprint: UInt64, nowMillis: Int64) -> Reservation {
        let key = self.key(tenant: tenant, paymentId: paymentId)
        let found: Found = shard(key).shard.withLock { shard in
            shard.expire(before: nowMillis - retentionMillis)
            switch shard.positions[key] {
            case Shard.pending?:
                return .pending
            case let position?:
                let record = shard.record(at: position)
                guard record.fingerprint == fingerprint else { return .reused }
                return .record(record, record.flags & (Record.hasRules | Record.isWhole) != 0 ? shard.extras[position] : nil)
            case nil:
                shard.positions[key] = Shard.pending
                return .reserved
            }
        }
        // The answer is rebuilt outside the lock: its strings are the only allocations on this path.
        switch found {
        case .reserved: return .reserved
        case .pending: return .inProgress
        case .reused: return .reused
        case .record(let record, let extra): return .duplicate(answer(record, extra: extra, paymentId: paymentId))
        }
    }

    /// Records the answer for a reserved id (or, during recovery, for an id read from the log).
    public func record(tenant: String, paymentId: String, fingerprint: UInt64, response: ScoreResponse, atMillis: Int64) {
        let key = self.key(tenant: tenant, paymentId: paymentId)
        var (record, extra) = compact(response, key: key, paymentId: paymentId, atMillis: atMillis)
        record.fingerprint = fingerprint
        shard(key).shard.withLock { shard in
            let position = shard.append(record)
            shard.positions[key] = position
            if let extra { shard.extras[position] = extra }
        }
    }

    /// Releases a reservation whose scoring failed, so a retry can score it.
    public func release(tenant: String, paymentId: String) {
        let key = self.key(tenant: tenant, paymentId: paymentId)
        shard(key).shard.withLock { shard in
            if shard.positions[key] == Shard.pending { shard.positions[key] = nil }
        }
    }

    /// Ids remembered or being scored.
    public var count: Int { locks.reduce(0) { $0 + $1.shard.withLock { $0.positions.count } } }

    /// A 64-bit digest of everything a payment says except its id and its sealed values, whose random nonces differ
    /// between two sealings of the same text: tokens stand for the personal data, so the same payment sent twice has
    /// the same fingerprint, on any node and in any process, whether it came over HTTP or back from the event log.
    ///
    /// The free-text `reference` is held only sealed, so a retry that changes nothing but the reference counts as
    /// the same payment. It is ``StableHash`` (FNV-1a, then a 64-bit finaliser), the same in every process so that
    /// nodes sharing a duplicate store agree. Two different payments under one id share a fingerprint with odds
    /// about 2⁻⁶⁴; only the tenant's own client could aim for that, and it would only lose its own second payment's score.
    public static func fingerprint(of payment: TokenizedPayment) -> UInt64 {
        var hash = StableHash(0x5649_4749_4C46)
        hash.combine(payment.perspective.rawValue)
        hash.combine(payment.type.rawValue)
        hash.combine(payment.scheme)
        hash.combine(payment.channel)
        hash.combine(payment.amount.currency.code)
        hash.combine(UInt64(bitPattern: payment.amount.minorUnits))
        hash.combine(UInt64(bitPattern: payment.createdAt.epochMillis))
        hash.combine(UInt64(bitPattern: Int64(payment.createdAt.utcOffsetSeconds)))
        for party in [payment.debtor, payment.creditor] {
            hash.combine(party.account)
            hash.combine(party.name)
            hash.combine(party.agent)
        }
        hash.combine(payment.payeeFirstSeenAt.map { UInt64(bitPattern: $0.epochMillis) })
        hash.combine(payment.confirmationOfPayee?.rawValue)
        hash.combine(payment.device)
        hash.combine(payment.ip)
        hash.combine(payment.uetr)
        return hash.value
    }

    // MARK: Packing

    /// The record for `response`, and what it cannot hold.
    func compact(_ response: ScoreResponse, key: Key, paymentId: String, atMillis: Int64) -> (Record, Extra?) {
        var record = Record(
            key: key, atMillis: atMillis, fingerprint: 0, scoreId: (0, 0), contributions: (0, 0, 0, 0, 0), processingMicros: 0, score: 0,
            decision: 0, modelVersion: 0, reasonCount: 0, flags: response.duplicate ? Record.wasDuplicate : 0, features: (0, 0, 0, 0, 0)
        )
        guard response.paymentId == paymentId,
            let scoreId = ScoreID.pack(response.scoreId),
            let score = UInt16(exactly: response.score),
            let micros = UInt32(exactly: response.processingMicros),
            let version = intern(response.modelVersion),
            response.reasons.count <= Record.inlineReasons, response.degraded == nil
        else {
            record.flags |= Record.isWhole
            return (record, .whole(response))
        }
        for (i, reason) in response.reasons.enumerated() {
            guard let feature = Feature(name: reason.feature), feature.reasonCode == reason.code,
                let micro = Self.micro(reason.contribution), let index = UInt8(exactly: feature.rawValue)
            else {
                record.flags |= Record.isWhole
                return (record, .whole(response))
            }
            withUnsafeMutableBytes(of: &record.features) { $0[i] = index }
            withUnsafeMutableBytes(of: &record.contributions) { $0.storeBytes(of: micro, toByteOffset: i * 4, as: Int32.self) }
        }
        record.scoreId = scoreId
        record.score = score
        record.processingMicros = micros
        record.modelVersion = version
        record.decision = Self.code(response.decision)
        record.reasonCount = UInt8(response.reasons.count)
        guard response.rules.isEmpty else {
            record.flags |= Record.hasRules
            return (record, .rules(response.rules))
        }
        return (record, nil)
    }

    /// The answer a record stands for.
    func answer(_ record: Record, extra: Extra?, paymentId: String) -> ScoreResponse {
        if case .whole(let response)? = extra { return response }
        var reasons: [Reason] = []
        reasons.reserveCapacity(Int(record.reasonCount))
        withUnsafeBytes(of: record.features) { features in
            withUnsafeBytes(of: record.contributions) { contributions in
                for i in 0..<Int(record.reasonCount) {
                    let feature = Feature(rawValue: Int(features[i]))!
                    let micro = contributions.load(fromByteOffset: i * 4, as: Int32.self)
                    reasons.append(Reason(code: feature.reasonCode, feature: feature.name, contribution: Double(micro) / 1e6))
                }
            }
        }
        var rules: [RuleFiring] = []
        if case .rules(let firings)? = extra { rules = firings }
        let version = modelVersions.withLock { $0[Int(record.modelVersion)] }
        return ScoreResponse(
            paymentId: paymentId, scoreId: ScoreID.format(record.scoreId), score: Int(record.score),
            decision: Self.decision(record.decision), reasons: reasons, rules: rules,
            duplicate: record.flags & Record.wasDuplicate != 0, modelVersion: version, processingMicros: Int(record.processingMicros)
        )
    }

    /// The index of `version` in the table, added if new; nil once the table is full.
    func intern(_ version: String) -> UInt8? {
        modelVersions.withLock { versions in
            if let index = versions.firstIndex(of: version) { return UInt8(index) }
            guard versions.count <= Int(UInt8.max) else { return nil }
            versions.append(version)
            return UInt8(versions.count - 1)
        }
    }

    /// `value` in millionths, if `Double(micro) / 1e6` gives back exactly `value` (same bits).
    static func micro(_ value: Double) -> Int32? {
        guard value.isFinite, let micro = Int32(exactly: (value * 1e6).rounded()) else { return nil }
        return (Double(micro) / 1e6).bitPattern == value.bitPattern ? micro : nil
    }

    static func code(_ decision: Decision) -> UInt8 {
        switch decision {
        case .allow: 0
        case .review: 1
        case .block: 2
        }
    }

    static func decision(_ code: UInt8) -> Decision {
        switch code {
        case 0: .allow
        case 1: .review
        default: .block
        }
    }
}
