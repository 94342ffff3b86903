import Foundation
import VigilDomain
public import VigilEngine
import VigilEventLog
public import VigilFeatures

/// The in-process scoring state at one log position: the feature store with its applied-payment markers, the
/// duplicate index, and the day's usage counts. Recovery loads it and replays only the log from ``sequence`` on.
///
/// On disk (`DATA/snapshots/<sequence, 20 digits>.snap`), all integers little-endian:
///
/// | part | bytes |
/// |---|---|
/// | magic `VIGILSNP` | 8 |
/// | format version (``formatVersion``) | u32 |
/// | sequence: the log's next sequence when the state was taken; replay starts there | u64 |
/// | creation time, ms since the epoch | i64 |
/// | section count | u32 |
/// | per section: kind (1 features, 2 duplicates, 3 usage), its own format, byte length | u32, u32, u64 |
/// | the sections' bytes, in order | … |
/// | CRC-32C of everything before it | u32 |
///
/// The feature and duplicate sections (format 2) put each shard's bytes behind their length (u64), so that decoding
/// finds every shard first and decodes them on all cores (``SnapshotReader/decodeConcurrently(_:what:_:)``).
///
/// Tokens' key bits, digests, numbers, score ids, reason codes, rule names, model versions and tenant names only:
/// the state it copies holds no plaintext personal data, so neither does the file.
public struct Snapshot: Sendable {
    public static let magic = Array("VIGILSNP".utf8)
    public static let formatVersion: UInt32 = 1
    static let headerBytes = 8 + 4 + 8 + 8 + 4
    static let sectionHeaderBytes = 16

    enum Section: UInt32 {
        case features = 1, duplicates = 2, usage = 3
        /// The reference data (issue 13); a snapshot without it restores none.
        case reference = 4
    }

    /// The log's next sequence when the state was taken: every record below it is in the state.
    public var sequence: UInt64
    public var createdAtMillis: Int64
    public var features: FeatureStoreImage
    public var duplicates: DuplicateIndexImage
    /// Today's usage per tenant: (tenant, UTC day, requests counted that day).
    public var usage: [UsageDayCount]
    /// The reference store's data (reports, directory, links, entitlements, file progress).
    public var reference: ReferenceStoreImage

    public init(
        sequence: UInt64, createdAtMillis: Int64, features: FeatureStoreImage, duplicates: DuplicateIndexImage, usage: [UsageDayCount],
        reference: ReferenceStoreImage = .empty
    ) {
        self.reference = reference
        self.sequence = sequence
        self.createdAtMillis = createdAtMillis
        self.features = features
        self.duplicates = duplicates
        self.usage = usage
    }

    /// The file's parts in order (header, sections, checksum), so a writer can write them without joining them.
    public func encode() -> [[UInt8]] {
        var features = SnapshotWriter(capacity: 1 << 20)
        self.features.encode(into: &features)
        var duplicates = SnapshotWriter(capacity: 1 << 20)
        self.duplicates.encode(into: &duplicates)
        var usage = SnapshotWriter()
        usage.count(self.usage.count)
        for entry in self.usage {
            usage.string(entry.tenant)
            usage.int(entry.day)
            usage.count(entry.count)
        }
        var reference = SnapshotWriter()
        self.reference.encode(into: &reference)
        let sections: [(Section, UInt32, [UInt8])] = [
            (.features, FeatureStoreImage.format, features.take()),
            (.duplicates, DuplicateIndexImage.format, duplicates.take()),
            (.usage, 1, usage.take()),
            (.reference, ReferenceStoreImage.format, reference.take()),
        ]
        var header = SnapshotWriter(capacity: 128)
        header.raw(Self.magic)
        header.u32(Self.formatVersion)
        header.word(sequence)
        header.int(createdAtMillis)
        header.u32(UInt32(sections.count))
        for (kind, format, bytes) in sections {
            header.u32(kind.rawValue)
            header.u32(format)
            header.count(bytes.count)
        }
        var parts = [header.take()] + sections.map(\.2)
        var crc: UInt32 = 0
        for part in parts { crc = part.withUnsafeBytes { CRC32C.checksum(continuing: crc, $0) } }
        var trailer = SnapshotWriter(capacity: 4)
        trailer.u32(crc)
        parts.append(trailer.take())
        return parts
    }

    /// Decodes a whole snapshot file into fresh structures, after checking its header and checksum.
    /// - Parameter duplicateShards: The shard count of the index it will be restored into.
    /// - Throws: ``SnapshotError`` saying why the file cannot be used.
    public static func decode(_ bytes: [UInt8], duplicateShards: Int) throws(SnapshotError) -> Snapshot {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) in try decode(raw: raw, duplicateShards: duplicateShards) }
        }
        return try result.get()
    }

    private static func decode(raw: UnsafeRawBufferPointer, duplicateShards: Int) throws(SnapshotError) -> Snapshot {
        guard raw.count >= headerBytes + 4 else { throw SnapshotError(.truncated, "the file is \(raw.count) bytes, shorter than a header") }
        guard Array(raw[0..<8]) == magic else { throw SnapshotError(.notASnapshot, "the file does not start with VIGILSNP") }
        var header = SnapshotReader(UnsafeRawBufferPointer(rebasing: raw[8..<(raw.count - 4)]))
        let version = try Self.read { () throws(SnapshotDecodingError) in try header.u32() }
        guard version == formatVersion else {
            throw SnapshotError(.unknownVersion, "format version \(version); this build reads version \(formatVersion)")
        }
        let sequence = try Self.read { () throws(SnapshotDecodingError) in try header.word() }
        let created = try Self.read { () throws(SnapshotDecodingError) in try header.int() }
        let sectionCount = try Self.read { () throws(SnapshotDecodingError) in try header.u32() }
        var sections: [(kind: UInt32, format: UInt32, length: Int)] = []
        for _ in 0..<min(sectionCount, 64) {
            let kind = try Self.read { () throws(SnapshotDecodingError) in try header.u32() }
            let format = try Self.read { () throws(SnapshotDecodingError) in try header.u32() }
            let length = try Self.read { () throws(SnapshotDecodingError) in try header.word() }
            sections.append((kind, format, Int(clamping: length)))
        }
        let bodyStart = headerBytes + sections.count * sectionHeaderBytes
        let declared = sections.reduce(bodyStart) { $0 &+ $1.length }
        guard sectionCount <= 64, declared + 4 <= raw.count else {
            throw SnapshotError(.truncated, "the sections declare \(declared + 4) bytes; the file has \(raw.count)")
        }
        guard declared + 4 == raw.count else {
            throw SnapshotError(.corrupt, "\(raw.count - declared - 4) bytes past the declared sections")
        }
        let stored = raw.loadUnaligned(fromByteOffset: declared, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<declared]))
        guard UInt32(littleEndian: stored) == computed else { throw SnapshotError(.badChecksum, "CRC-32C mismatch") }

        var features: FeatureStoreImage?
        var duplicates: DuplicateIndexImage?
        var usage: [UsageDayCount] = []
        var reference = ReferenceStoreImage.empty
        var offset = bodyStart
        for section in sections {
            var reader = SnapshotReader(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + section.length)]))
            offset += section.length
            switch Section(rawValue: section.kind) {
            case .features:
                guard FeatureStoreImage.readableFormats.contains(section.format) else {
                    throw SnapshotError(.unknownVersion, "feature section format \(section.format)")
                }
                features = try Self.read { () throws(SnapshotDecodingError) in try FeatureStoreImage.decode(&reader, format: section.format) }
            case .duplicates:
                guard section.format == DuplicateIndexImage.format else {
                    throw SnapshotError(.unknownVersion, "duplicate section format \(section.format)")
                }
                duplicates = try Self.read { () throws(SnapshotDecodingError) in
                    try DuplicateIndexImage.decode(&reader, shardCount: duplicateShards)
                }
            case .usage:
                usage = try Self.read { () throws(SnapshotDecodingError) in
                    var entries: [UsageDayCount] = []
                    for _ in 0..<(try reader.count(minimumBytes: 24)) {
                        entries.append(UsageDayCount(tenant: try reader.string(), day: try reader.int(), count: try reader.number()))
                    }
                    return entries
                }
            case .reference:
                guard ReferenceStoreImage.readableFormats.contains(section.format) else {
                    throw SnapshotError(.unknownVersion, "reference section format \(section.format)")
                }
                reference = try Self.read { () throws(SnapshotDecodingError) in
                    try ReferenceStoreImage.decode(&reader, format: section.format)
                }
            case nil:
                throw SnapshotError(.unknownVersion, "a section of kind \(section.kind)")
            }
            try Self.read { () throws(SnapshotDecodingError) in try reader.expectEnd("a section") }
        }
        guard let features, let duplicates else { throw SnapshotError(.corrupt, "a section is missing") }
        return Snapshot(
            sequence: sequence, createdAtMillis: created, features: features, duplicates: duplicates, usage: usage, reference: reference
        )
    }

    private static func read<T>(_ body: () throws(SnapshotDecodingError) -> T) throws(SnapshotError) -> T {
        do {
            return try body()
        } catch {
            throw SnapshotError(.corrupt, error.description)
        }
    }
}

/// One tenant's count of requests on one UTC day, as the usage limiter keeps it.
public struct UsageDayCount: Sendable, Equatable {
    public var tenant: String
    public var day: Int64
    public var count: Int

    public init(tenant: String, day: Int64, count: Int) {
        self.tenant = tenant
        self.day = day
        self.count = count
    }
}

/// Why a snapshot file cannot be used; recovery then tries the next older one, or replays the whole log.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case notASnapshot = "not a snapshot"
        case unknownVersion = "unknown version"
        case truncated
        case badChecksum = "bad checksum"
        case corrupt
        case beyondLog = "beyond the log"
        case belowLog = "below the log"
        case io = "unreadable"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
