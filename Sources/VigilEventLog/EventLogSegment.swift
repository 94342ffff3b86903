#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One segment file of a ``FileEventLog``: a run of framed records whose first record has sequence
/// number `firstSequence`, stored as `<firstSequence, 20 digits>.log`.
///
/// A segment is created at its full size filled with zeros, and records overwrite the zeros from the
/// start, so the data ends at the first header of eight zero bytes (a record is never empty) or at the
/// end of the file. Segments written before preallocation have no zero tail and simply end.
struct EventLogSegment: Sendable, Equatable {
    /// Bytes of framing before each payload: u32 LE payload length, then u32 LE CRC-32C of the payload.
    static let headerBytes = 8

    /// The sequence number of the segment's first record, which is also its name.
    var firstSequence: UInt64
    /// Bytes of intact records the segment is known to hold; ``unread`` for a closed segment the open did not read
    /// (a reader reads it to its zero tail, and reports damage there).
    var bytes: Int

    static let unread = Int.max

    static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: 20 - digits.count) + digits + ".log"
    }

    /// The first sequence number a segment file name stands for, or nil for any other file.
    static func firstSequence(fileName name: String) -> UInt64? {
        let utf8 = name.utf8
        guard utf8.count == 24, name.hasSuffix(".log") else { return nil }
        let digits = utf8.prefix(20)
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(Substring(name.prefix(20)))
    }

    static func path(directory: String, firstSequence: UInt64) -> String {
        directory + "/" + self.fileName(firstSequence: firstSequence)
    }

    /// First sequence numbers of the segment files in `directory`, ascending.
    static func list(directory: String) throws(EventLogError) -> [UInt64] {
        try FileSystem.listDirectory(directory).compactMap { self.firstSequence(fileName: $0) }.sorted()
    }
}

/// Why a segment stops holding intact records at some offset.
enum RecordDamage: Sendable, Equatable, CustomStringConvertible {
    /// Fewer than a header's bytes remain.
    case tornHeader
    /// The header's length runs past the end of the file.
    case tornPayload(length: UInt32)
    /// The length is zero (with a non-zero checksum, so not the zero tail) or above the log's maximum record size.
    case badLength(UInt32)
    /// The payload does not match the header's CRC-32C.
    case badChecksum

    var description: String {
        switch self {
        case .tornHeader: "incomplete record header"
        case .tornPayload(let length): "incomplete payload of \(length) bytes"
        case .badLength(let length): "invalid record length \(length)"
        case .badChecksum: "CRC-32C mismatch"
        }
    }
}

/// Reads a segment's records in order through one reused buffer, stopping at the zero tail or the first
/// damaged record.
struct SegmentReader: ~Copyable {
    let path: String
    /// The segment file's size when the reader opened it.
    let fileBytes: Int
    /// Intact records returned so far.
    private(set) var records: UInt64 = 0
    /// The end of the last intact record returned.
    private(set) var goodBytes = 0
    /// Set once the reader meets a damaged record, at offset `goodBytes`.
    private(set) var damage: RecordDamage?
    /// Set once the reader meets the zero tail, at offset `goodBytes`.
    private(set) var reachedZeroTail = false

    private let fd: CInt
    private let limit: Int
    private let maxRecordBytes: Int
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var filePosition = 0
    private var pendingConsume = 0

    /// Opens a segment for reading.
    /// - Parameters:
    ///   - limit: Bytes of the file to consider; records beyond it are not read. Nil reads to the end.
    ///   - maxRecordBytes: Longer lengths count as damage.
    init(path: String, limit: Int? = nil, maxRecordBytes: Int) throws(EventLogError) {
        let fd = try FileSystem.openFile(path, O_RDONLY)
        do {
            self.fileBytes = try FileSystem.fileSize(fd, path: path)
        } catch {
            FileSystem.closeFile(fd)
            throw error
        }
        self.path = path
        self.fd = fd
        self.limit = min(limit ?? .max, self.fileBytes)
        self.maxRecordBytes = maxRecordBytes
        let capacity = max(1 << 20, maxRecordBytes + EventLogSegment.headerBytes)
        self.buffer = .allocate(byteCount: min(capacity, max(self.limit, EventLogSegment.headerBytes)), alignment: 8)
    }

    deinit {
        self.buffer.deallocate()
        FileSystem.closeFile(self.fd)
    }

    /// The next intact record's payload, valid until the next call; nil at the end, the zero tail or damage.
    mutating func next() throws(EventLogError) -> UnsafeRawBufferPointer? {
        guard self.damage == nil, !self.reachedZeroTail else { return nil }
        self.start += self.pendingConsume
        self.pendingConsume = 0
        let header = EventLogSegment.headerBytes
        guard try self.ensure(header) else {
            if self.end > self.start {
                // Fewer bytes than a header are left: a full segment's short zero tail, or a torn header.
                let rest = UnsafeRawBufferPointer(
                    start: UnsafeRawPointer(self.buffer.baseAddress!) + self.start, count: self.end - self.start)
                if rest.allSatisfy({ $0 == 0 }) { self.reachedZeroTail = true } else { self.damage = .tornHeader }
            }
            return nil
        }
        let base = UnsafeRawPointer(self.buffer.baseAddress!) + self.start
        let length = UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))
        let checksum = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        if length == 0 && checksum == 0 {
            self.reachedZeroTail = true
            return nil
        }
        guard length > 0, Int(length) <= self.maxRecordBytes else {
            self.damage = .badLength(length)
            return nil
        }
        let size = header + Int(length)
        guard try self.ensure(size) else {
            self.damage = .tornPayload(length: length)
            return nil
        }
        // `ensure` may have moved the bytes to the front of the buffer.
        let payload = UnsafeRawBufferPointer(
            start: UnsafeRawPointer(self.buffer.baseAddress!) + self.start + header, count: Int(length))
        guard CRC32C.checksum(payload) == checksum else {
            self.damage = .badChecksum
            return nil
        }
        self.pendingConsume = size
        self.goodBytes += size
        self.records += 1
        return payload
    }

    /// Makes `count` bytes from `start` available in the buffer; false when the file (or limit) ends first.
    private mutating func ensure(_ count: Int) throws(EventLogError) -> Bool {
        if self.end - self.start >= count { return true }
        if self.start > 0 {
            let base = self.buffer.baseAddress!
            memmove(base, base + self.start, self.end - self.start)
            self.end -= self.start
            self.start = 0
        }
        while self.end < count {
            let want = min(self.buffer.count - self.end, self.limit - self.filePosition)
            if want <= 0 { break }
            let got = try FileSystem.readFile(
                self.fd, into: self.buffer.baseAddress! + self.end, count: want, at: self.filePosition,
                path: self.path)
            if got == 0 { break }
            self.end += got
            self.filePosition += got
        }
        return self.end >= count
    }
}
