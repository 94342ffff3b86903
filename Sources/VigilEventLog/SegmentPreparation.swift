import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes the file the next segment will be, on a thread of its own, so that rolling to a new segment
/// only renames it rather than waiting for 64 MiB of zeros to reach the disk.
///
/// The file is `DIR/next.log.tmp`: `bytes` of zeros, written (not just `fallocate`d: an unwritten extent
/// still needs a metadata update on its first write) and fsynced. Records then overwrite the zeros in
/// place, so the `fdatasync` of a commit has no file size or extent to write, only the data.
final class SegmentPreparation: Sendable {
    static let fileName = "next.log.tmp"

    /// Where the prepared file is while it is made and until a roll renames it.
    let path: String
    private let cancelled = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<EventLogError?>(nil)

    static func path(directory: String) -> String {
        directory + "/" + self.fileName
    }

    /// Starts making `DIR/next.log.tmp` of `bytes` zeros in the background, replacing any earlier one.
    init(directory: String, bytes: Int) {
        self.path = Self.path(directory: directory)
        do throws(EventLogError) {
            try FileSystem.startThread(named: "vigil-eventlog-prepare") { [self] in
                do throws(EventLogError) {
                    try Self.makeZeroedFile(path: self.path, bytes: bytes) { self.cancelled.load(ordering: .relaxed) }
                } catch {
                    self.outcome.withLock { $0 = error }
                }
                self.finished.signal()
            }
        } catch {
            self.outcome.withLock { $0 = error }
            self.finished.signal()
        }
    }

    /// Waits for the file and returns nil once it is ready, or why it is not.
    func wait() -> EventLogError? {
        self.finished.wait()
        // Signalled again so a second wait does not block.
        self.finished.signal()
        return self.outcome.withLock { $0 }
    }

    /// Asks the preparation to stop early; `wait()` then returns promptly with an error.
    func cancel() {
        self.cancelled.store(true, ordering: .relaxed)
    }

    /// Creates or replaces `path` with `bytes` zeros and fsyncs it, so its size and blocks are on disk.
    static func makeZeroedFile(
        path: String, bytes: Int, isCancelled: () -> Bool = { false }
    ) throws(EventLogError) {
        let fd = try FileSystem.openFile(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { FileSystem.closeFile(fd) }
        guard try FileSystem.writeZeros(fd, 0..<bytes, path: path, isCancelled: isCancelled) else {
            throw EventLogError(code: .closed, message: "preparing \(path) was cancelled")
        }
        try FileSystem.syncAll(fd, path: path)
    }
}
