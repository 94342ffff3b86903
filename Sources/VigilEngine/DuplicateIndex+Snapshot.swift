public import VigilDomain
import Synchronization
import VigilFeatures

/// A copy of a ``DuplicateIndex``'s shards at one instant, to be encoded into a snapshot (or decoded from one and
/// swapped in). Answers only: ids still being scored (reservations) are not part of it.
public struct DuplicateIndexImage: Sendable {
    var shards: [DuplicateIndex.Shard]
    var modelVersions: [String]
    var seed: (UInt64, UInt64)
    /// Digests that were reserved, their payments being scored, when the image was taken.
    var pending: [DuplicateIndex.Key]

    /// Answers held.
    public var count: Int { shards.reduce(0) { $0 + $1.positions.count { $0.value != DuplicateIndex.Shard.pending } } }
    /// Ids that were being scored when the image was taken.
    public var pendingCount: Int { pending.count }
}

extension DuplicateIndex.Shard: @unchecked Sendable {}
extension DuplicateIndex.Key: @unchecked Sendable {}

extension DuplicateIndex {
    /// Copies every shard with all their locks held at once (references only: microseconds), with the model-version
    /// table and the digests' key.
    public func capture() -> DuplicateIndexImage {
        var shards: [Shard] = []
        shards.reserveCapacity(locks.count)
        Self.holding(locks[...], into: &shards)
        let versions = modelVersions.withLock { $0 }
        var pending: [Key] = []
        for shard in shards { for (key, position) in shard.positions where position == Shard.pending { pending.append(key) } }
        return DuplicateIndexImage(shards: shards, modelVersions: versions, seed: seed, pending: pending)
    }

    private static func holding(_ locks: ArraySlice<Lock>, into copies: inout [Shard]) {
        guard let first = locks.first else { return }
        first.shard.withLock { shard in
            copies.append(shard)
            holding(locks.dropFirst(), into: &copies)
        }
    }

    /// Whether any of `image`'s pending ids is still reserved without an answer: a payment being scored then may
    /// already be in the log, and its answer is in the index only once it is recorded.
    public func isStillPending(_ image: DuplicateIndexImage) -> Bool {
        image.pending.contains { key in shard(key).shard.withLock { $0.positions[key] == Shard.pending } }
    }

    /// Replaces the index's answers, model versions and key with `image`'s (decoded whole beforehand). For recovery,
    /// before anything is scored.
    public func restore(_ image: DuplicateIndexImage) {
        precondition(image.shards.count == locks.count)
        seedLow.store(image.seed.0, ordering: .relaxed)
        seedHigh.store(image.seed.1, ordering: .relaxed)
        modelVersions.withLock { $0 = image.modelVersions }
        for (lock, shard) in zip(locks, image.shards) { lock.shard.withLock { $0 = shard } }
    }

    /// A fresh image of an empty index with this index's shard count, for a decoder to fill.
    public var shardCount: Int { locks.count }
}

extension DuplicateIndexImage {
    /// The snapshot section's format; a snapshot with another is not read.
    ///
    /// 2: each shard's bytes behind their length, so that the shards decode on all cores; 1 had none.
    public static let format: UInt32 = 2

    /// Appends the answers not yet expired, in each shard's order (the later of two answers for one id wins again on
    /// decoding), with what does not fit inline. Digests, scores, decisions, reason codes, rule names and model
    /// versions: no payment data. Each shard's bytes follow their length.
    public func encode(into out: inout SnapshotWriter) {
        out.word(seed.0)
        out.word(seed.1)
        out.count(modelVersions.count)
        for version in modelVersions { out.string(version) }
        out.count(shards.count)
        for shard in shards { out.lengthPrefixed { Self.encode(shard, &$0) } }
    }

    private static func encode(_ shard: DuplicateIndex.Shard, _ out: inout SnapshotWriter) {
        let end = shard.nextPosition
        out.count(end - shard.head)
        var position = shard.head
        while position < end {
            let record = shard.record(at: position)
            Self.encode(record, &out)
            if record.flags & (DuplicateIndex.Record.hasRules | DuplicateIndex.Record.isWhole) != 0 {
                Self.encode(shard.extras[position], &out)
            }
            position += 1
        }
    }

    /// Decodes what ``encode(into:)`` wrote into fresh shards, on all cores. Every shard's length is checked against
    /// the bytes before any is decoded, and each must decode to exactly its length.
    /// - Parameter shardCount: The shard count of the index it will be restored into.
    public static func decode(_ input: inout SnapshotReader, shardCount: Int) throws(SnapshotDecodingError) -> DuplicateIndexImage {
        let seed = (try input.word(), try input.word())
        let versionCount = try input.count(minimumBytes: 8)
        guard versionCount <= 256 else { throw SnapshotDecodingError("more model versions than a record can name") }
        var versions: [String] = []
        for _ in 0..<versionCount { versions.append(try input.string()) }
        guard try input.count() == shardCount else { throw SnapshotDecodingError("a duplicate-index shard count this build does not use") }
        let parts = try input.parts(shardCount, what: "duplicate-index shard")
        let shards = try SnapshotReader.decodeConcurrently(parts, what: "duplicate-index shard") { (input) throws(SnapshotDecodingError) in
            try decodeShard(&input, versions: versionCount)
        }
        return DuplicateIndexImage(shards: shards, modelVersions: versions, seed: seed, pending: [])
    }

    private static func decodeShard(_ input: inout SnapshotReader, versions: Int) throws(SnapshotDecodingError) -> DuplicateIndex.Shard {
        var shard = DuplicateIndex.Shard()
        let count = try input.count(minimumBytes: 83)
        shard.positions.reserveCapacity(count)
        for _ in 0..<count {
            let record = try decodeRecord(&input, versions: versions)
            let position = shard.append(record)
            shard.positions[record.key] = position
            if record.flags & (DuplicateIndex.Record.hasRules | DuplicateIndex.Record.isWhole) != 0 {
                shard.extras[position] = try decodeExtra(&input)
            }
        }
        return shard
    }

    private static func encode(_ record: DuplicateIndex.Record, _ out: inout SnapshotWriter) {
        out.word(record.key.low)
        out.word(record.key.high)
        out.int(record.atMillis)
        out.word(record.fingerprint)
        out.word(record.scoreId.0)
        out.word(record.scoreId.1)
        withUnsafeBytes(of: record.contributions) { raw in
            for i in 0..<DuplicateIndex.Record.inlineReasons { out.u32(UInt32(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) }
        }
        out.u32(record.processingMicros)
        out.half(record.score)
        out.byte(record.decision)
        out.byte(record.modelVersion)
        out.byte(record.reasonCount)
        out.byte(record.flags)
        withUnsafeBytes(of: record.features) { raw in for byte in raw { out.byte(byte) } }
    }

    private static func decodeRecord(_ input: inout SnapshotReader, versions: Int) throws(SnapshotDecodingError) -> DuplicateIndex.Record {
        let key = DuplicateIndex.Key(low: try input.word(), high: try input.word())
        var record = DuplicateIndex.Record(
            key: key, atMillis: try input.int(), fingerprint: try input.word(), scoreId: (try input.word(), try input.word()),
            contributions: (0, 0, 0, 0, 0), processingMicros: 0, score: 0, decision: 0, modelVersion: 0, reasonCount: 0, flags: 0,
            features: (0, 0, 0, 0, 0)
        )
        var contributions: [Int32] = []
        for _ in 0..<DuplicateIndex.Record.inlineReasons { contributions.append(Int32(bitPattern: try input.u32())) }
        record.contributions = (contributions[0], contributions[1], contributions[2], contributions[3], contributions[4])
        record.processingMicros = try input.u32()
        record.score = try input.half()
        record.decision = try input.byte()
        record.modelVersion = try input.byte()
        record.reasonCount = try input.byte()
        record.flags = try input.byte()
        record.features = (try input.byte(), try input.byte(), try input.byte(), try input.byte(), try input.byte())
        let whole = record.flags & DuplicateIndex.Record.isWhole != 0
        guard whole || Int(record.modelVersion) < versions else { throw SnapshotDecodingError("an answer naming a model version not in the table") }
        guard whole || Int(record.reasonCount) <= DuplicateIndex.Record.inlineReasons else { throw SnapshotDecodingError("an answer with too many reasons") }
        if !whole {
            for i in 0..<Int(record.reasonCount) {
                let raw = withUnsafeBytes(of: record.features) { $0[i] }
                guard Feature(rawValue: Int(raw)) != nil else { throw SnapshotDecodingError("a reason naming a feature this build does not have") }
            }
        }
        return record
    }

    private static func encode(_ extra: DuplicateIndex.Extra?, _ out: inout SnapshotWriter) {
        switch extra {
        case .rules(let rules)?:
            out.byte(1)
            encode(rules, &out)
        case .whole(let response)?:
            out.byte(2)
            out.string(response.paymentId)
            out.string(response.scoreId)
            out.int(Int64(response.score))
            out.byte(DuplicateIndex.code(response.decision))
            out.count(response.reasons.count)
            for reason in response.reasons {
                out.string(reason.code)
                out.string(reason.feature)
                out.double(reason.contribution)
            }
            encode(response.rules, &out)
            out.byte(response.duplicate ? 1 : 0)
            out.string(response.modelVersion)
            out.int(Int64(response.processingMicros))
            out.byte(response.degraded.map { $0 ? 2 : 1 } ?? 0)
        case nil:
            out.byte(0)
        }
    }

    private static func encode(_ rules: [RuleFiring], _ out: inout SnapshotWriter) {
        out.count(rules.count)
        for rule in rules {
            out.string(rule.name)
            out.byte(DuplicateIndex.code(rule.outcome))
        }
    }

    private static func decodeRules(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> [RuleFiring] {
        let count = try input.count(minimumBytes: 9)
        var rules: [RuleFiring] = []
        for _ in 0..<count { rules.append(RuleFiring(name: try input.string(), outcome: try decodeDecision(&input))) }
        return rules
    }

    private static func decodeDecision(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> Decision {
        let code = try input.byte()
        guard code <= 2 else { throw SnapshotDecodingError("an unknown decision") }
        return DuplicateIndex.decision(code)
    }

    private static func decodeExtra(_ input: inout SnapshotReader) throws(SnapshotDecodingError) -> DuplicateIndex.Extra {
        switch try input.byte() {
        case 1: return .rules(try decodeRules(&input))
        case 2:
            let paymentId = try input.string()
            let scoreId = try input.string()
            let score = Int(try input.int())
            let decision = try decodeDecision(&input)
            let reasonCount = try input.count(minimumBytes: 24)
            var reasons: [Reason] = []
            for _ in 0..<reasonCount { reasons.append(Reason(code: try input.string(), feature: try input.string(), contribution: try input.double())) }
            let rules = try decodeRules(&input)
            let duplicate = try input.byte() != 0
            let modelVersion = try input.string()
            let micros = Int(try input.int())
            let degraded: Bool? =
                switch try input.byte() {
                case 0: nil
                case 1: false
                default: true
                }
            var response = ScoreResponse(
                paymentId: paymentId, scoreId: scoreId, score: score, decision: decision, reasons: reasons, rules: rules, duplicate: duplicate,
                modelVersion: modelVersion, processingMicros: micros
            )
            response.degraded = degraded
            return .whole(response)
        default: throw SnapshotDecodingError("an answer whose side record is missing or of an unknown kind")
        }
    }
}
