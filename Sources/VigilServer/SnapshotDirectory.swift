import Foundation

/// The snapshot files of a data directory, `DATA/snapshots/<sequence, 20 digits>.snap`.
///
/// A snapshot is written as `<name>.snap.tmp`, fsynced, renamed to `<name>.snap`, and the directory fsynced, so a
/// crash leaves either the whole file or none under its name (a leftover `.tmp` is removed by the next write). The
/// newest ``kept`` are kept.
public struct SnapshotDirectory: Sendable {
    public static let kept = 2

    public let path: String

    public init(dataDirectory: String) {
        self.path = dataDirectory + "/snapshots"
    }

    static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".snap"
    }

    /// The snapshot files' sequences, newest (highest) first.
    public func sequences() throws -> [UInt64] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path).compactMap { name -> UInt64? in
            guard name.utf8.count == 25, name.hasSuffix(".snap") else { return nil }
            return UInt64(name.prefix(20))
        }.sorted(by: >)
    }

    public func file(sequence: UInt64) -> String {
        path + "/" + Self.fileName(sequence: sequence)
    }

    /// Writes `parts` as the snapshot at `sequence`, atomically and durably, then deletes all but the newest
    /// ``kept`` snapshots and any leftover temporary file.
    /// - Returns: The bytes written.
    @discardableResult
    public func write(_ parts: [[UInt8]], sequence: UInt64) throws -> Int {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let final = file(sequence: sequence)
        let temporary = final + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError(.io, "cannot create \(temporary) (errno \(errno))") }
        var total = 0
        do {
            for part in parts {
                try part.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if written < 0 && errno == EINTR { continue }
                        guard written > 0 else { throw SnapshotError(.io, "cannot write \(temporary) (errno \(errno))") }
                        offset += written
                    }
                }
                total += part.count
            }
            guard fsync(fd) == 0 else { throw SnapshotError(.io, "cannot fsync \(temporary) (errno \(errno))") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, final) == 0 else {
            let code = errno
            unlink(temporary)
            throw SnapshotError(.io, "cannot rename \(temporary) (errno \(code))")
        }
        try syncDirectory()
        try prune()
        return total
    }

    /// Deletes every snapshot but the newest ``kept``, and temporary files.
    func prune() throws {
        for sequence in try sequences().dropFirst(Self.kept) { unlink(file(sequence: sequence)) }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) where name.hasSuffix(".snap.tmp") {
            unlink(path + "/" + name)
        }
        try syncDirectory()
    }

    private func syncDirectory() throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotError(.io, "cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SnapshotError(.io, "cannot fsync \(path) (errno \(errno))") }
    }

    /// Reads a snapshot file whole.
    public func read(sequence: UInt64) throws(SnapshotError) -> [UInt8] {
        let name = file(sequence: sequence)
        let fd = open(name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotError(.io, "cannot open \(name) (errno \(errno))") }
        defer { close(fd) }
        // The size by seeking to the end (`struct stat` is ambiguous between Glibc and CDispatch in this module).
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw SnapshotError(.io, "cannot find the size of \(name) (errno \(errno))") }
        let size = Int(end)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var offset = 0
            while offset < size {
                let got = pread(fd, buffer.baseAddress! + offset, size - offset, off_t(offset))
                if got < 0 && errno == EINTR { continue }
                if got < 0 { failure = errno }
                if got <= 0 { break }
                offset += got
            }
            initialized = offset
        }
        guard failure == 0 else { throw SnapshotError(.io, "cannot read \(name) (errno \(failure))") }
        return bytes
    }

    /// A snapshot recovery may use, or why one may not.
    public enum Outcome: Sendable {
        case loaded(Snapshot)
        case skipped(sequence: UInt64, reason: SnapshotError)
    }

    /// Tries the snapshots newest first and stops at the first that decodes whole and fits the log: its sequence
    /// at most the log's next sequence (else it holds records the log lost) and at least the log's first (else the
    /// records after it are gone). Each skipped one comes back with its reason, in order.
    /// - Parameter duplicateShards: The shard count of the index the snapshot will be restored into.
    public func loadNewest(logFirst: UInt64, logNext: UInt64, duplicateShards: Int) -> [Outcome] {
        var outcomes: [Outcome] = []
        let sequences: [UInt64]
        do {
            sequences = try self.sequences()
        } catch {
            return []
        }
        for sequence in sequences {
            do throws(SnapshotError) {
                guard sequence <= logNext else {
                    throw SnapshotError(.beyondLog, "it covers the log up to sequence \(sequence), but the log ends at \(logNext)")
                }
                guard sequence >= logFirst else {
                    throw SnapshotError(.belowLog, "the log after sequence \(sequence) is gone (the log starts at \(logFirst))")
                }
                let snapshot = try Snapshot.decode(try read(sequence: sequence), duplicateShards: duplicateShards)
                guard snapshot.sequence == sequence else {
                    throw SnapshotError(.corrupt, "the file is named for sequence \(sequence) but holds sequence \(snapshot.sequence)")
                }
                outcomes.append(.loaded(snapshot))
                return outcomes
            } catch {
                outcomes.append(.skipped(sequence: sequence, reason: error))
            }
        }
        return outcomes
    }
}
