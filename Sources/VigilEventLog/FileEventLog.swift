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
    /// Recovery reads only the last segment: its torn or damaged tail is overwritten with zeros from the end of
    /// the last intact record and synced, so the file keeps its size (``RecoveryReport/truncatedBytes`` says how
    /// much was discarded). The earlier segments are closed and their record counts follow from their names, so
    /// they are read only when something reads them (``forEach(from:_:)``, ``read(directory:maxRecordBytes:_:)``),
    /// which reports damage in them, or a segment holding other than its name's share of records, as an error
    /// rather than silent loss. The first segment may start above 0 once retention has deleted older ones. A new
    /// log's first segment is zeroed here, which takes about as long as writing `segmentBytes`.
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

    /// Appends the records in order and together: they share one batch's write and sync, so a loader waits for one
    /// sync per call rather than one per record. Returns the first record's sequence.
    public func append(contentsOf payloads: [[UInt8]]) async throws(EventLogError) -> UInt64 {
        try await self.queue.append(contentsOf: payloads)
    }

    public func shutdown() async {
        await self.queue.shutdown()
    }

    /// Set once a write or sync has failed: the log is fail-stopped and only a new process (after recovery) can
    /// append again.
    public var failure: EventLogError? {
        self.queue.failure
    }

    /// The sequence number the next append will get. Every record below it has been handed to the log (it may
    /// still be waiting for its write and sync), so whoever changed state before appending has changed it for all
    /// of them.
    public var nextSequence: UInt64 {
        self.queue.nextSequence
    }

    /// The first sequence number the log still holds: 0 until retention removes segments.
    public var firstSequence: UInt64 {
        self.queue.readableSegments.first?.firstSequence ?? 0
    }

    /// Reads every record written so far, in order, including while the log is open for writing.
    ///
    /// It sees records once they are written and, with `.fsync`, synced.
    /// Records appended while it runs may or may not be seen.
    /// - Throws: ``EventLogError`` `.corrupt` or `.io` if a written record cannot be read back, or whatever `body` throws.
    public func forEach(_ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void) throws {
        try self.forEach(from: 0, body)
    }

    /// Reads the records from sequence `start` on, in order, opening only the segments that hold them: what
    /// recovery after a snapshot reads.
    ///
    /// A closed segment the open did not read is read to its zero tail; damage in it, or a record count that does
    /// not reach the next segment's name, throws `.corrupt`.
    /// - Throws: ``EventLogError`` `.corrupt` or `.io` if a written record cannot be read back, or whatever `body` throws.
    public func forEach(from start: UInt64, _ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void) throws {
        let segments = self.queue.readableSegments
        for (index, segment) in segments.enumerated() {
            let end = index + 1 < segments.count ? segments[index + 1].firstSequence : nil
            if let end, end <= start { continue }
            let path = EventLogSegment.path(directory: self.directory, firstSequence: segment.firstSequence)
            let records = try Self.readSegment(
                path: path, firstSequence: segment.firstSequence,
                limit: segment.bytes == EventLogSegment.unread ? nil : segment.bytes, maxRecordBytes: self.maxRecordBytes,
                stopAtDamage: false
            ) { sequence, payload in
                if sequence >= start { try body(sequence, payload) }
            }
            if let end { try Self.checkContinuity(path: path, firstSequence: segment.firstSequence, records: records, next: end) }
        }
    }

    /// A closed segment of the log: every segment but the one appends go to.
    public struct ClosedSegment: Sendable, Equatable {
        /// The sequence number of its first record (its name).
        public var firstSequence: UInt64
        /// The sequence number just past its last record: the next segment's name.
        public var endSequence: UInt64
        /// When its file was last written, seconds since the epoch: when its newest record was appended.
        public var modifiedAt: Int64

        public init(firstSequence: UInt64, endSequence: UInt64, modifiedAt: Int64) {
            self.firstSequence = firstSequence
            self.endSequence = endSequence
            self.modifiedAt = modifiedAt
        }
    }

    /// The closed segments, oldest first, with their extent and last write time (one `stat` each, no reading).
    public func closedSegments() throws(EventLogError) -> [ClosedSegment] {
        let segments = self.queue.readableSegments
        var closed: [ClosedSegment] = []
        for index in segments.indices.dropLast() {
            let first = segments[index].firstSequence
            closed.append(
                ClosedSegment(
                    firstSequence: first, endSequence: segments[index + 1].firstSequence,
                    modifiedAt: try FileSystem.modificationTime(EventLogSegment.path(directory: self.directory, firstSequence: first))))
        }
        return closed
    }

    /// Deletes the closed segments that end at or below `sequence`, oldest first (so a crash midway leaves the log
    /// contiguous), then syncs the directory. The segment appends go to is never deleted.
    /// - Returns: How many segment files were deleted.
    @discardableResult
    public func removeSegments(endingAtOrBelow sequence: UInt64) throws(EventLogError) -> Int {
        let doomed = try self.closedSegments().filter { $0.endSequence <= sequence }
        guard let last = doomed.last else { return 0 }
        // Readers in this process stop seeing them first; an export reading one already keeps its open file.
        self.queue.dropSegments(below: last.endSequence)
        for segment in doomed {
            try FileSystem.removeFile(EventLogSegment.path(directory: self.directory, firstSequence: segment.firstSequence))
        }
        let fd = try FileSystem.openFile(self.directory, O_RDONLY | O_DIRECTORY)
        defer { FileSystem.closeFile(fd) }
        try FileSystem.syncAll(fd, path: self.directory)
        return doomed.count
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
    /// writer leaves one. Damage in an earlier segment, or a gap between segments, throws `.corrupt`. The first
    /// segment may start above 0: retention deletes the oldest segments.
    /// - Parameter maxRecordBytes: As the log was written with; a longer length counts as damage.
    public static func read(
        directory: String,
        maxRecordBytes: Int = 1 << 20,
        _ body: (_ sequence: UInt64, _ payload: [UInt8]) throws -> Void
    ) throws {
        let segments = try EventLogSegment.list(directory: directory)
        var expected = segments.first ?? 0
        for (index, first) in segments.enumerated() {
            let path = EventLogSegment.path(directory: directory, firstSequence: first)
            try Self.checkContinuity(path: path, firstSequence: first, expected: expected)
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

    private static func checkContinuity(path: String, firstSequence: UInt64, expected: UInt64) throws(EventLogError) {
        guard firstSequence != expected else { return }
        throw EventLogError(
            code: .corrupt,
            message: "segment \(path) starts at sequence \(firstSequence) but the segments before it end at \(expected)")
    }

    /// A closed segment must hold exactly the records up to the next segment's name.
    private static func checkContinuity(path: String, firstSequence: UInt64, records: UInt64, next: UInt64) throws(EventLogError) {
        guard firstSequence + records != next else { return }
        throw EventLogError(
            code: .corrupt,
            message: "segment \(path) holds \(records) records, ending at sequence \(firstSequence + records), but the next "
                + "segment starts at \(next): records are missing or damaged")
    }

    /// Takes the directory's exclusive lock and records this process's pid in it.
    ///
    /// A lock its holder has just released can stay held for a moment: a child process this process spawned (gpg,
    /// clamd in a test) shares the lock's open file description from its fork until its exec closes it (`O_CLOEXEC`).
    /// So a held lock is tried again for up to two seconds before the log is refused as open elsewhere.
    private static func lock(directory: String) throws(EventLogError) -> CInt {
        let path = directory + "/LOCK"
        let fd = try FileSystem.openFile(path, O_RDWR | O_CREAT)
        let deadline = ContinuousClock.now + .seconds(2)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK, ContinuousClock.now < deadline {
                usleep(10_000)
                continue
            }
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

    /// Reads the last segment, zeroes its damaged tail, and opens it for writing; or makes the first segment of
    /// a new log.
    private static func recover(
        directory: String, directoryFD: CInt, segmentBytes: Int, maxRecordBytes: Int
    ) throws(EventLogError) -> Recovered {
        // A next segment half made when the last owner stopped; the writer makes a new one.
        try FileSystem.removeFile(SegmentPreparation.path(directory: directory))
        let firsts = try EventLogSegment.list(directory: directory)
        // Closed segments are not read: names chain (each is the previous one's name plus its record count), so
        // the last one's name and its records give the next sequence number. Whoever reads a closed segment later
        // checks it.
        var segments = firsts.dropLast().map { EventLogSegment(firstSequence: $0, bytes: EventLogSegment.unread) }
        var expected: UInt64 = 0
        var truncatedBytes = 0
        var truncatedFile: String?
        if let first = firsts.last {
            let path = EventLogSegment.path(directory: directory, firstSequence: first)
            var reader = try SegmentReader(path: path, maxRecordBytes: maxRecordBytes)
            while try reader.next() != nil {}
            // A whole record that is merely longer than allowed is what a lowered maxRecordBytes
            // looks like, not a torn write; cutting it would lose acknowledged records.
            if case .badLength(let length)? = reader.damage, Int(length) > maxRecordBytes,
                Int(length) <= Self.maxRecordBytesLimit,
                reader.fileBytes - reader.goodBytes >= EventLogSegment.headerBytes + Int(length)
            {
                throw EventLogError(
                    code: .corrupt,
                    message: "segment \(path) holds a complete \(length)-byte record at byte offset "
                        + "\(reader.goodBytes), above maxRecordBytes \(maxRecordBytes); open the log with a "
                        + "larger maxRecordBytes rather than truncating it")
            }
            // Whatever follows the intact records must be zeros, or appends would end in front of old
            // bytes that read as damage once this is no longer the last segment. Besides a torn record,
            // a crash can leave a later page of an unsynced batch written while an earlier one is not.
            let dirtyEnd = try Self.endOfNonZeroBytes(path: path, in: reader.goodBytes..<reader.fileBytes)
            if dirtyEnd > reader.goodBytes {
                truncatedBytes = dirtyEnd - reader.goodBytes
                truncatedFile = path
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
        var report = RecoveryReport(
            segments: segments.count, records: expected, truncatedBytes: truncatedBytes, truncatedFile: truncatedFile)
        report.firstSequence = segments[0].firstSequence
        return Recovered(segments: segments, report: report, segmentFD: fd)
    }
}
