#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An ``EventLog`` kept as segment files in one directory, with group commit on a dedicated writer thread.
///
/// Each segment is named by the sequence number of its first record, zero-padded to 20 digits
/// (`00000000000000000000.log`), and holds records framed as
/// `[u32 LE payload length][u32 LE CRC-32C of payload][payload]`. A new segment starts when the next
/// record would take the current one past `segmentBytes`. `DIR/LOCK` carries an exclusive `flock` and
/// the owner's pid.
///
/// Segments are created `segmentBytes` long and filled with zeros, and records overwrite the zeros in
/// place, so syncing a commit writes no file-size metadata; the data ends at the first all-zero header.
/// The next segment is zeroed in the background as `DIR/next.log.tmp` and renamed into place on a roll.
///
/// Appends enqueue their framed record and suspend; the writer thread takes everything pending,
/// writes it with one `pwrite` per segment, syncs once, and resumes the whole batch.
public final class FileEventLog: EventLog {
    /// Records longer than this cannot be configured: the length field is checked against
    /// `maxRecordBytes`, and a sane ceiling keeps recovery's read buffer bounded.
    public static let maxRecordBytesLimit = 1 << 30

    public let directory: String
    public let durability: Durability
    public let maxRecordBytes: Int
    /// What opening the log found and repaired.
    public let recovery: RecoveryReport
    let queue: AppendQueue

    /// Opens the log in `directory`, creating the directory if needed, and recovers it.
    ///
    /// Recovery reads every segment. A torn or damaged tail of the last segment is overwritten with zeros
    /// from the end of the last intact record and synced, so the file keeps its size
    /// (``RecoveryReport/truncatedBytes`` says how much was discarded); damage in any earlier segment, or a
    /// gap in the segments' sequence numbers, is an error rather than silent loss. A new log's first segment
    /// is zeroed here, which takes about as long as writing `segmentBytes`.
    /// Blocks while it reads, so call it at startup rather than on a cooperative thread under load.
    ///
    /// - Parameters:
    ///   - segmentBytes: The size of a segment file, zeroed when it is made; a new segment starts when the
    ///     next record would not fit. A single larger record gets a segment of its own, grown past this size.
    ///   - maxRecordBytes: The longest payload `append` accepts; a longer length on disk counts as damage.
    ///     Reopen a log with at least the value it was written with: a complete longer record fails the open.
    ///   - onSync: Called on the writer thread after each sync with its duration and how many records it
    ///     made durable. It must return quickly: appends wait while it runs.
    /// - Throws: ``EventLogError`` with `.locked` when another process or handle has the directory open,
    ///   `.corrupt` naming the file and byte offset of damage recovery may not repair, `.io` when a
    ///   system call fails, and `.invalidArgument` for a non-positive size.
    public init(
        directory: String,
        durability: Durability = .fsync,
        segmentBytes: Int = 64 << 20,
        maxRecordBytes: Int = 1 << 20,
        onSync: (@Sendable (_ seconds: Double, _ records: Int) -> Void)? = nil
    ) throws(EventLogError) {
        guard segmentBytes > 0 else {
            throw EventLogError(code: .invalidArgument, message: "segmentBytes must be positive, not \(segmentBytes)")
        }
        guard maxRecordBytes > 0 && maxRecordBytes <= Self.maxRecordBytesLimit else {
            throw EventLogError(
                code: .invalidArgument,
                message: "maxRecordBytes must be in 1...\(Self.maxRecordBytesLimit), not \(maxRecordBytes)")
        }
        try FileSystem.makeDirectories(directory)
        let lockFD = try Self.lock(directory: directory)
        var directoryFD: CInt = -1
        var segmentFD: CInt = -1
        do throws(EventLogError) {
            directoryFD = try FileSystem.openFile(directory, O_RDONLY | O_DIRECTORY)
            let recovered = try Self.recover(
                directory: directory, directoryFD: directoryFD, segmentBytes: segmentBytes,
                maxRecordBytes: maxRecordBytes)
            segmentFD = recovered.segmentFD
            let queue = AppendQueue(
                nextSequence: recovered.report.records, segments: recovered.segments, maxRecordBytes: maxRecordBytes)
            let configuration = SegmentWriter.Configuration(
                directory: directory, durability: durability, segmentBytes: segmentBytes, onSync: onSync,
                lockFD: lockFD, directoryFD: directoryFD, segmentFD: segmentFD, segment: recovered.segments.last!)
            try FileSystem.startThread(named: "vigil-eventlog") {
                SegmentWriter(queue: queue, configuration: configuration).run()
            }
            self.queue = queue
            self.recovery = recovered.report
        } catch {
            if segmentFD >= 0 { FileSystem.closeFile(segmentFD) }
            if directoryFD >= 0 { FileSystem.closeFile(directoryFD) }
            FileSystem.closeFile(lockFD)
            throw error
        }
        self.directory = directory
        self.durability = durability
        self.maxRecordBytes = maxRecordBytes
    }

    deinit {
        self.queue.requestShutdown()
    }

    /// Appends one record and returns its sequence number once it is durable as configured.
    ///
    /// - Performance: One lock hold to copy the framed payload into the pending batch; the checksum is
    ///   computed before the lock. `EventLogBenchmark` measures appends per second.
    public func append(_ payload: [UInt8]) async throws(EventLogError) -> UInt64 {
        try await self.queue.append(payload)
    }

    public func shutdown() async {
        await self.queue.shutdown()
    }

    /// Set once a write or sync has failed: the log is fail-stopped and only a new process (after recovery) can
    /// append again.
    public var failure: EventLogError? {
        self.queue.failure
    }

    /// Reads every record written so far, in order, including while the log is open for writing.
    ///
    /// It sees records once they are written and, with `.fsync`, synced.
    /// Records appended while it runs may or may not be seen.
    /// - Throws: ``EventLogError`` `.corrupt` or `.io` if a written record cannot be read back, or whatever `body` throws.
    public func forEach(_ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void) throws {
        for segment in self.queue.readableSegments {
            _ = try Self.readSegment(
                path: EventLogSegment.path(directory: self.directory, firstSequence: segment.firstSequence),
                firstSequence: segment.firstSequence, limit: segment.bytes, maxRecordBytes: self.maxRecordBytes,
                stopAtDamage: false, body)
        }
    }

    /// Reads the records of the newest `segments` segments, in order: the tail of the log, without reading it all.
    public func forEachInNewest(segments: Int, _ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void) throws {
        for segment in self.queue.readableSegments.suffix(segments) {
            _ = try Self.readSegment(
                path: EventLogSegment.path(directory: self.directory, firstSequence: segment.firstSequence),
                firstSequence: segment.firstSequence, limit: segment.bytes, maxRecordBytes: self.maxRecordBytes,
                stopAtDamage: false, body)
        }
    }

    /// Reads every intact record of the log in `directory` without locking or repairing it, for offline export.
    ///
    /// A damaged or torn tail of the last segment ends the read quietly, as a crash or a concurrent
    /// writer leaves one. Damage in an earlier segment, or a gap between segments, throws `.corrupt`.
    /// - Parameter maxRecordBytes: As the log was written with; a longer length counts as damage.
    public static func read(
        directory: String,
        maxRecordBytes: Int = 1 << 20,
        _ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void
    ) throws {
        let segments = try EventLogSegment.list(directory: directory)
        var expected: UInt64 = 0
        for (index, first) in segments.enumerated() {
            let path = EventLogSegment.path(directory: directory, firstSequence: first)
            try Self.checkContinuity(path: path, firstSequence: first, expected: expected, isFirst: index == 0)
            expected =
                first
                + (try Self.readSegment(
                    path: path, firstSequence: first, limit: nil, maxRecordBytes: maxRecordBytes,
                    stopAtDamage: index == segments.count - 1, body))
        }
    }

    /// Passes a segment's records to `body` and returns how many there were.
    private static func readSegment(
        path: String,
        firstSequence: UInt64,
        limit: Int?,
        maxRecordBytes: Int,
        stopAtDamage: Bool,
        _ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void
    ) throws -> UInt64 {
        var reader = try SegmentReader(path: path, limit: limit, maxRecordBytes: maxRecordBytes)
        var sequence = firstSequence
        while let payload = try reader.next() {
            try body(sequence, Array(payload))
            sequence += 1
        }
        if let damage = reader.damage, !stopAtDamage {
            throw Self.damaged(path: path, offset: reader.goodBytes, damage: damage)
        }
        return reader.records
    }

    private static func endOfNonZeroBytes(path: String, in range: Range<Int>) throws(EventLogError) -> Int {
        let fd = try FileSystem.openFile(path, O_RDONLY)
        defer { FileSystem.closeFile(fd) }
        return try FileSystem.endOfNonZeroBytes(fd, in: range, path: path)
    }

    private static func damaged(path: String, offset: Int, damage: RecordDamage) -> EventLogError {
        EventLogError(
            code: .corrupt,
            message: "segment \(path) is damaged at byte offset \(offset) (\(damage)); only the end of the last "
                + "segment may be torn, so this is not repaired automatically")
    }

    private static func checkContinuity(
        path: String, firstSequence: UInt64, expected: UInt64, isFirst: Bool
    ) throws(EventLogError) {
        guard firstSequence != expected else { return }
        let message =
            isFirst
            ? "the first segment \(path) starts at sequence \(firstSequence), not 0: earlier segments are missing"
            : "segment \(path) starts at sequence \(firstSequence) but the segments before it end at \(expected)"
        throw EventLogError(code: .corrupt, message: message)
    }

    /// Takes the directory's exclusive lock and records this process's pid in it.
    private static func lock(directory: String) throws(EventLogError) -> CInt {
        let path = directory + "/LOCK"
        let fd = try FileSystem.openFile(path, O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            FileSystem.closeFile(fd)
            if code == EWOULDBLOCK {
                let holder = FileSystem.contents(path).map { $0.filter(\.isNumber) } ?? ""
                throw EventLogError(
                    code: .locked,
                    message: "event log \(directory) is already open (\(path) is locked"
                        + (holder.isEmpty ? "" : " by pid \(holder)")
                        + "); only one process and one FileEventLog may write a log directory")
            }
            throw FileSystem.ioError("flock of", path, errno: code)
        }
        // The pid is only for the message above; failing to write it is harmless.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return fd
    }

    private struct Recovered {
        var segments: [EventLogSegment]
        var report: RecoveryReport
        /// The last segment, open for appending.
        var segmentFD: CInt
    }

    /// Checks every segment, zeroes a damaged tail of the last, and opens the last for writing; or makes
    /// the first segment of a new log.
    private static func recover(
        directory: String, directoryFD: CInt, segmentBytes: Int, maxRecordBytes: Int
    ) throws(EventLogError) -> Recovered {
        // A next segment half made when the last owner stopped; the writer makes a new one.
        try FileSystem.removeFile(SegmentPreparation.path(directory: directory))
        let firsts = try EventLogSegment.list(directory: directory)
        var segments: [EventLogSegment] = []
        var expected: UInt64 = 0
        var truncatedBytes = 0
        var truncatedFile: String?
        for (index, first) in firsts.enumerated() {
            let path = EventLogSegment.path(directory: directory, firstSequence: first)
            try Self.checkContinuity(path: path, firstSequence: first, expected: expected, isFirst: index == 0)
            var reader = try SegmentReader(path: path, maxRecordBytes: maxRecordBytes)
            while try reader.next() != nil {}
            if let damage = reader.damage {
                guard index == firsts.count - 1 else {
                    throw Self.damaged(path: path, offset: reader.goodBytes, damage: damage)
                }
                // A whole record that is merely longer than allowed is what a lowered maxRecordBytes
                // looks like, not a torn write; cutting it would lose acknowledged records.
                if case .badLength(let length) = damage, Int(length) > maxRecordBytes,
                    Int(length) <= Self.maxRecordBytesLimit,
                    reader.fileBytes - reader.goodBytes >= EventLogSegment.headerBytes + Int(length)
                {
                    throw EventLogError(
                        code: .corrupt,
                        message: "segment \(path) holds a complete \(length)-byte record at byte offset "
                            + "\(reader.goodBytes), above maxRecordBytes \(maxRecordBytes); open the log with a "
                            + "larger maxRecordBytes rather than truncating it")
                }
            }
            if index == firsts.count - 1 {
                // Whatever follows the intact records must be zeros, or appends would end in front of old
                // bytes that read as damage once this is no longer the last segment. Besides a torn record,
                // a crash can leave a later page of an unsynced batch written while an earlier one is not.
                let dirtyEnd = try Self.endOfNonZeroBytes(path: path, in: reader.goodBytes..<reader.fileBytes)
                if dirtyEnd > reader.goodBytes {
                    truncatedBytes = dirtyEnd - reader.goodBytes
                    truncatedFile = path
                }
            }
            segments.append(EventLogSegment(firstSequence: first, bytes: reader.goodBytes))
            expected = first + reader.records
        }

        let created = segments.isEmpty
        if created {
            segments = [EventLogSegment(firstSequence: 0, bytes: 0)]
            // Zeroed under a temporary name, so a crash never leaves a first segment of the wrong size.
            let temporary = SegmentPreparation.path(directory: directory)
            try SegmentPreparation.makeZeroedFile(path: temporary, bytes: segmentBytes)
            try FileSystem.renameFile(
                temporary, to: EventLogSegment.path(directory: directory, firstSequence: 0))
            try FileSystem.syncAll(directoryFD, path: directory)
        }
        let last = segments[segments.count - 1]
        let path = EventLogSegment.path(directory: directory, firstSequence: last.firstSequence)
        let fd = try FileSystem.openFile(path, O_WRONLY)
        do throws(EventLogError) {
            if truncatedBytes > 0 {
                _ = try FileSystem.writeZeros(fd, last.bytes..<(last.bytes + truncatedBytes), path: path)
                try FileSystem.syncAll(fd, path: path)
            }
        } catch {
            FileSystem.closeFile(fd)
            throw error
        }
        let report = RecoveryReport(
            segments: segments.count, records: expected, truncatedBytes: truncatedBytes, truncatedFile: truncatedFile)
        return Recovered(segments: segments, report: report, segmentFD: fd)
    }
}
