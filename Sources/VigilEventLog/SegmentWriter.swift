#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// The writer thread's loop: takes every pending record at once, writes the batch with one `pwrite`
/// per segment it touches, syncs, then resumes the batch's waiters (group commit).
///
/// Records overwrite the zeros of a pre-zeroed segment in place, so a sync writes only data. The next
/// segment is made ahead of time by a ``SegmentPreparation``, which a roll renames into place.
/// It owns the open files; nothing else touches them while it runs.
struct SegmentWriter: ~Copyable {
    /// What the writer needs from `FileEventLog.init`, all of it safe to hand to the new thread.
    struct Configuration: Sendable {
        var directory: String
        var durability: Durability
        var segmentBytes: Int
        var onSync: (@Sendable (_ seconds: Double, _ records: Int) -> Void)?
        var lockFD: CInt
        var directoryFD: CInt
        var segmentFD: CInt
        var segment: EventLogSegment
    }

    /// How long `.async` durability lets written records sit unsynced.
    static let asyncSyncInterval = Duration.milliseconds(50)
    /// Batch buffers above this size are dropped after use rather than kept for the next batch.
    static let retainedBatchCapacity = 4 << 20

    private let queue: AppendQueue
    private let configuration: Configuration
    private var segmentFD: CInt
    private var segment: EventLogSegment
    private var batch: [UInt8] = []
    /// The next segment's file being made, or made; nil only after shutdown.
    private var preparation: SegmentPreparation?
    private var waiters: [AppendQueue.Waiter] = []
    /// Records written since the last sync, in `.async` mode.
    private var unsyncedRecords = 0
    private var lastSync = ContinuousClock.now
    /// After a failed write or sync nothing more is written: the page cache's state is unknown.
    private var failed = false

    init(queue: AppendQueue, configuration: Configuration) {
        self.queue = queue
        self.configuration = configuration
        self.segmentFD = configuration.segmentFD
        self.segment = configuration.segment
        self.batch.reserveCapacity(64 << 10)
        self.preparation = SegmentPreparation(directory: configuration.directory, bytes: configuration.segmentBytes)
    }

    private var segmentPath: String {
        EventLogSegment.path(directory: self.configuration.directory, firstSequence: self.segment.firstSequence)
    }

    consuming func run() {
        while true {
            switch self.queue.takeWork(batch: &self.batch, waiters: &self.waiters) {
            case .batch(let firstSequence):
                self.commit(firstSequence: firstSequence)
                if self.batch.capacity > Self.retainedBatchCapacity {
                    self.batch = []
                    self.batch.reserveCapacity(64 << 10)
                } else {
                    self.batch.removeAll(keepingCapacity: true)
                }
                self.waiters.removeAll(keepingCapacity: true)
            case .finish:
                self.close()
                self.queue.finish()
                return
            case .idle:
                self.park()
            }
        }
    }

    /// Waits for a signal, or in `.async` mode until the pending sync is due.
    private mutating func park() {
        guard self.configuration.durability == .async, self.unsyncedRecords > 0, !self.failed else {
            self.queue.wakeup.wait()
            return
        }
        let remaining = Self.asyncSyncInterval - self.lastSync.duration(to: .now)
        if remaining > .zero {
            let (seconds, attoseconds) = remaining.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            if self.queue.wakeup.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success { return }
        }
        self.syncAsync()
    }

    private mutating func commit(firstSequence: UInt64) {
        let count = self.waiters.reduce(0) { $0 + $1.records }
        do throws(EventLogError) {
            let syncSeconds = try self.write(firstSequence: firstSequence)
            if self.configuration.durability == .fsync {
                self.configuration.onSync?(syncSeconds, count)
            } else {
                self.unsyncedRecords += count
            }
        } catch {
            self.failed = true
            for waiter in self.waiters { waiter.resume(returning: .failure(error)) }
            self.queue.fail(error)
            return
        }
        var sequence = firstSequence
        for waiter in self.waiters {
            waiter.resume(returning: .success(sequence))
            sequence += UInt64(waiter.records)
        }
        if self.configuration.durability == .async, self.lastSync.duration(to: .now) >= Self.asyncSyncInterval {
            self.syncAsync()
        }
    }

    /// Writes the batch, rolling to new segments where it would overflow one, and syncs it in `.fsync`
    /// mode. Returns the seconds spent syncing.
    private mutating func write(firstSequence: UInt64) throws(EventLogError) -> Double {
        var syncSeconds = 0.0
        let limit = self.configuration.segmentBytes
        var error: EventLogError?
        // A second reference rather than `self.batch`, so `self` can change while the bytes are borrowed.
        let batch = self.batch
        batch.withUnsafeBytes { bytes in
            do throws(EventLogError) {
                var chunkStart = 0
                var cursor = 0
                var sequence = firstSequence
                while cursor < bytes.count {
                    let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)))
                    let size = EventLogSegment.headerBytes + length
                    let filled = self.segment.bytes + (cursor - chunkStart)
                    if filled > 0 && filled + size > limit {
                        try self.append(UnsafeRawBufferPointer(rebasing: bytes[chunkStart..<cursor]))
                        syncSeconds += try self.roll(to: sequence)
                        chunkStart = cursor
                    }
                    cursor += size
                    sequence += 1
                }
                try self.append(UnsafeRawBufferPointer(rebasing: bytes[chunkStart..<cursor]))
                if self.configuration.durability == .fsync {
                    syncSeconds += try self.sync()
                }
                // Published only after the sync, so readers in this process see no record that a
                // failed sync could still take back.
                self.queue.publish(self.segment)
            } catch let caught {
                error = caught
            }
        }
        if let error { throw error }
        return syncSeconds
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) throws(EventLogError) {
        guard !bytes.isEmpty else { return }
        try FileSystem.writeAll(self.segmentFD, bytes, at: self.segment.bytes, path: self.segmentPath)
        self.segment.bytes += bytes.count
    }

    /// Closes the full segment and starts `<sequence>.log` from the prepared file. Returns the seconds
    /// spent syncing and waiting for the prepared file.
    private mutating func roll(to sequence: UInt64) throws(EventLogError) -> Double {
        // The old segment is synced even in `.async` mode: recovery treats damage in any segment but the
        // last as corruption, so a later segment must never reach the disk before an earlier one is whole.
        let seconds = try self.sync()
        self.queue.publish(self.segment)
        FileSystem.closeFile(self.segmentFD)
        self.segmentFD = -1
        self.segment = EventLogSegment(firstSequence: sequence, bytes: 0)
        let start = ContinuousClock.now
        let preparation = self.preparation
        self.preparation = nil
        // Normally ready long ago: zeroing a segment is much faster than filling one with commits. If
        // the preparation failed, the segment starts empty and grows, as every segment did before.
        if let preparation, preparation.wait() == nil {
            try FileSystem.renameFile(preparation.path, to: self.segmentPath)
            self.segmentFD = try FileSystem.openFile(self.segmentPath, O_WRONLY)
        } else {
            self.segmentFD = try FileSystem.openFile(self.segmentPath, O_WRONLY | O_CREAT | O_EXCL)
        }
        try FileSystem.syncAll(self.configuration.directoryFD, path: self.configuration.directory)
        self.queue.publish(self.segment)
        self.preparation = SegmentPreparation(
            directory: self.configuration.directory, bytes: self.configuration.segmentBytes)
        return seconds + Self.seconds(start.duration(to: .now))
    }

    private func sync() throws(EventLogError) -> Double {
        let start = ContinuousClock.now
        try FileSystem.syncData(self.segmentFD, path: self.segmentPath)
        return Self.seconds(start.duration(to: .now))
    }

    /// Syncs records that `.async` mode already acknowledged.
    private mutating func syncAsync() {
        guard self.unsyncedRecords > 0, !self.failed else { return }
        do throws(EventLogError) {
            let seconds = try self.sync()
            self.configuration.onSync?(seconds, self.unsyncedRecords)
            self.unsyncedRecords = 0
            self.lastSync = .now
        } catch {
            self.failed = true
            self.queue.fail(error)
        }
    }

    private mutating func close() {
        self.syncAsync()
        if let preparation = self.preparation {
            preparation.cancel()
            _ = preparation.wait()
            // A leftover is harmless (the next open removes it), so a failure here changes nothing.
            try? FileSystem.removeFile(preparation.path)
            self.preparation = nil
        }
        if self.segmentFD >= 0 { FileSystem.closeFile(self.segmentFD) }
        FileSystem.closeFile(self.configuration.directoryFD)
        // Closing the lock last lets the next owner in only once every write is done.
        FileSystem.closeFile(self.configuration.lockFD)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
