#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

extension FileEventLog {
    /// How many records have been given sequence numbers: the next append gets this one. It counts records whose
    /// append has not returned yet.
    public var appendedRecords: UInt64 {
        self.queue.state.withLock { $0.nextSequence }
    }

    /// A reader of the log's records from `sequence` on, for a consumer that follows the log as it grows (the
    /// stream shipper). It returns only records the log has made durable as configured (written and, with
    /// `.fsync`, synced), so it never hands on a record that a crash could still take back.
    public func tail(from sequence: UInt64) -> EventLogTail {
        EventLogTail(log: self, nextSequence: sequence)
    }

    var durableSegments: [EventLogSegment] { self.queue.readableSegments }
}

/// A position in a ``FileEventLog`` that reads on from where it stopped, without rereading the segment from its
/// start each time. Value type: a copy is an independent position.
public struct EventLogTail: Sendable {
    private let log: FileEventLog
    /// The sequence number of the next record ``read(maxRecords:maxBytes:)`` returns.
    public private(set) var nextSequence: UInt64
    /// The segment and byte offset of `nextSequence`, once found.
    private var position: (segment: UInt64, offset: Int)?

    init(log: FileEventLog, nextSequence: UInt64) {
        self.log = log
        self.nextSequence = nextSequence
    }

    /// The next durable records, in order: at most `maxRecords`, and stopping after the record that reaches
    /// `maxBytes` of payload. Empty when nothing durable follows. Blocks on file reads: call it off the cooperative
    /// pool.
    /// - Throws: ``EventLogError`` `.invalidArgument` if the position is before the oldest segment or after the end
    ///   of the log, `.corrupt` if a durable record does not read back intact, `.io` if a read fails.
    public mutating func read(maxRecords: Int, maxBytes: Int = 4 << 20) throws(EventLogError) -> [(sequence: UInt64, payload: [UInt8])] {
        let segments = self.log.durableSegments
        var records: [(sequence: UInt64, payload: [UInt8])] = []
        var bytes = 0
        if self.position == nil {
            guard let index = segments.lastIndex(where: { $0.firstSequence <= self.nextSequence }) else {
                throw EventLogError(
                    code: .invalidArgument,
                    message: "sequence \(self.nextSequence) is older than the log's oldest segment in \(self.log.directory)")
            }
            // Walks the segment from its start to the record; done once, then the offset is kept.
            let segment = segments[index]
            var sequence = segment.firstSequence
            var offset = 0
            let path = EventLogSegment.path(directory: self.log.directory, firstSequence: segment.firstSequence)
            let fd = try FileSystem.openFile(path, O_RDONLY)
            defer { FileSystem.closeFile(fd) }
            while sequence < self.nextSequence {
                guard let length = try Self.recordLength(fd, at: offset, limit: segment.bytes, path: path) else {
                    throw EventLogError(
                        code: .invalidArgument,
                        message: "sequence \(self.nextSequence) is past the end of the durable log (\(sequence) records)")
                }
                offset += EventLogSegment.headerBytes + length
                sequence += 1
            }
            self.position = (segment.firstSequence, offset)
        }
        while records.count < maxRecords, bytes < maxBytes, var position = self.position {
            guard let segmentIndex = segments.firstIndex(where: { $0.firstSequence == position.segment }) else {
                throw EventLogError(
                    code: .invalidArgument,
                    message: "segment \(position.segment) of \(self.log.directory) is gone while it was being read")
            }
            let segment = segments[segmentIndex]
            if position.offset >= segment.bytes {
                // The segment is read to its durable end; the next one starts at the next sequence number.
                guard segmentIndex + 1 < segments.count, segments[segmentIndex + 1].firstSequence == self.nextSequence else {
                    break
                }
                self.position = (segments[segmentIndex + 1].firstSequence, 0)
                continue
            }
            let path = EventLogSegment.path(directory: self.log.directory, firstSequence: segment.firstSequence)
            let fd = try FileSystem.openFile(path, O_RDONLY)
            defer { FileSystem.closeFile(fd) }
            while records.count < maxRecords, bytes < maxBytes, position.offset < segment.bytes {
                let payload = try Self.record(fd, at: position.offset, limit: segment.bytes, path: path, maxRecordBytes: self.log.maxRecordBytes)
                records.append((self.nextSequence, payload))
                bytes += payload.count
                position.offset += EventLogSegment.headerBytes + payload.count
                self.nextSequence += 1
            }
            self.position = position
        }
        return records
    }

    /// The payload length of the record at `offset`, or nil at `limit`.
    private static func recordLength(_ fd: CInt, at offset: Int, limit: Int, path: String) throws(EventLogError) -> Int? {
        guard offset < limit else { return nil }
        let (header, got) = try Self.bytes(fd, count: EventLogSegment.headerBytes, at: offset, path: path)
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard got == header.count, length > 0, offset + EventLogSegment.headerBytes + length <= limit else {
            throw EventLogError(code: .corrupt, message: "segment \(path) has no intact record at byte offset \(offset)")
        }
        return length
    }

    /// The payload of the intact record at `offset`, checked against its CRC-32C.
    private static func record(_ fd: CInt, at offset: Int, limit: Int, path: String, maxRecordBytes: Int) throws(EventLogError) -> [UInt8] {
        let (frame, framed) = try Self.bytes(fd, count: EventLogSegment.headerBytes, at: offset, path: path)
        let length = Int(UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24)
        let checksum = UInt32(frame[4]) | UInt32(frame[5]) << 8 | UInt32(frame[6]) << 16 | UInt32(frame[7]) << 24
        guard framed == frame.count, length > 0, length <= maxRecordBytes, offset + EventLogSegment.headerBytes + length <= limit else {
            throw EventLogError(code: .corrupt, message: "segment \(path) has no intact record at byte offset \(offset)")
        }
        let (payload, got) = try Self.bytes(fd, count: length, at: offset + EventLogSegment.headerBytes, path: path)
        guard got == length, CRC32C.checksum(payload) == checksum else {
            throw EventLogError(code: .corrupt, message: "segment \(path) has a damaged record at byte offset \(offset)")
        }
        return payload
    }

    /// `count` bytes at `offset`, and how many of them the file had.
    private static func bytes(_ fd: CInt, count: Int, at offset: Int, path: String) throws(EventLogError) -> ([UInt8], Int) {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(EventLogError) in
                try FileSystem.readFile(fd, into: buffer.baseAddress!, count: count, at: offset, path: path)
            }
        }
        return (bytes, try got.get())
    }
}
