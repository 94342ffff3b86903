#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the log makes: they retry `EINTR` and turn failures into
/// ``EventLogError`` values that name the file and the system error.
enum FileSystem {
    static func errorText(_ code: CInt) -> String {
        "errno \(code): \(String(cString: strerror(code)))"
    }

    static func ioError(_ what: String, _ path: String, errno code: CInt) -> EventLogError {
        EventLogError(code: .io, message: "\(what) \(path) failed (\(self.errorText(code)))")
    }

    static func openFile(_ path: String, _ flags: CInt, mode: mode_t = 0o644) throws(EventLogError) -> CInt {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw self.ioError("open", path, errno: errno) }
        }
    }

    static func closeFile(_ fd: CInt) {
        // Retrying close after EINTR could close a descriptor another thread just opened; Linux has
        // released the descriptor either way.
        _ = close(fd)
    }

    /// Writes all of `bytes` at `offset`, whatever the file's current offset.
    static func writeAll(
        _ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String
    ) throws(EventLogError) {
        guard var p = bytes.baseAddress else { return }
        var position = offset
        var remaining = bytes.count
        while remaining > 0 {
            let written = pwrite(fd, p, remaining, off_t(position))
            if written < 0 {
                if errno == EINTR { continue }
                throw self.ioError("write to", path, errno: errno)
            }
            p += written
            position += written
            remaining -= written
        }
    }

    /// Writes zeros over `range` of the file, a megabyte at a time, checking `isCancelled` between writes.
    /// - Returns: False if `isCancelled` stopped it before the end.
    static func writeZeros(
        _ fd: CInt, _ range: Range<Int>, path: String, isCancelled: () -> Bool = { false }
    ) throws(EventLogError) -> Bool {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: min(1 << 20, max(range.count, 1)), alignment: 4096)
        defer { chunk.deallocate() }
        chunk.initializeMemory(as: UInt8.self, repeating: 0)
        var position = range.lowerBound
        while position < range.upperBound {
            if isCancelled() { return false }
            let count = min(chunk.count, range.upperBound - position)
            try self.writeAll(fd, UnsafeRawBufferPointer(rebasing: chunk[..<count]), at: position, path: path)
            position += count
        }
        return true
    }

    /// The offset just past the last non-zero byte in `range` of the file, or `range.lowerBound` if all are zero.
    static func endOfNonZeroBytes(_ fd: CInt, in range: Range<Int>, path: String) throws(EventLogError) -> Int {
        let size = 1 << 20
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer {
            chunk.deallocate()
            zeros.deallocate()
        }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        // From the end backwards: a clean zero tail is read once, and damage ends the search at once.
        var end = range.upperBound
        while end > range.lowerBound {
            let start = max(range.lowerBound, end - size)
            let got = try self.readFile(fd, into: chunk.baseAddress!, count: end - start, at: start, path: path)
            if memcmp(chunk.baseAddress!, zeros.baseAddress!, got) != 0 {
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[..<got])
                return start + bytes.lastIndex { $0 != 0 }! + 1
            }
            end = start
        }
        return range.lowerBound
    }

    /// Renames `source` to `destination`, replacing nothing: the caller knows `destination` does not exist.
    static func renameFile(_ source: String, to destination: String) throws(EventLogError) {
        if rename(source, destination) != 0 {
            throw self.ioError("rename to \(destination) of", source, errno: errno)
        }
    }

    /// Removes a file if it exists.
    static func removeFile(_ path: String) throws(EventLogError) {
        if unlink(path) != 0 && errno != ENOENT { throw self.ioError("unlink", path, errno: errno) }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    static func readFile(
        _ fd: CInt, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int, path: String
    ) throws(EventLogError) -> Int {
        var total = 0
        while total < count {
            let got = pread(fd, buffer + total, count - total, off_t(offset + total))
            if got < 0 {
                if errno == EINTR { continue }
                throw self.ioError("read from", path, errno: errno)
            }
            if got == 0 { break }
            total += got
        }
        return total
    }

    /// Makes written data of a regular file durable, with the metadata needed to read it back.
    static func syncData(_ fd: CInt, path: String) throws(EventLogError) {
        #if canImport(Darwin)
        // fsync on Darwin only reaches the drive's cache; F_FULLFSYNC asks the drive to flush it.
        if fcntl(fd, F_FULLFSYNC) == 0 { return }
        if fsync(fd) == 0 { return }
        #else
        if fdatasync(fd) == 0 { return }
        #endif
        // No EINTR retry: a failed sync may have dropped the dirty pages, so a retry can falsely succeed.
        throw self.ioError("fdatasync of", path, errno: errno)
    }

    /// Makes a file's data and all its metadata durable; on a directory, makes its entries durable so a
    /// newly created file survives power loss.
    static func syncAll(_ fd: CInt, path: String) throws(EventLogError) {
        if fsync(fd) != 0 { throw self.ioError("fsync of", path, errno: errno) }
    }

    static func fileSize(_ fd: CInt, path: String) throws(EventLogError) -> Int {
        let end = lseek(fd, 0, SEEK_END)
        if end < 0 { throw self.ioError("seek in", path, errno: errno) }
        return Int(end)
    }

    /// Creates `path` and any missing parents.
    /// The file's last modification, seconds since the epoch.
    static func modificationTime(_ path: String) throws(EventLogError) -> Int64 {
        var info = stat()
        if stat(path, &info) != 0 { throw self.ioError("stat", path, errno: errno) }
        #if canImport(Darwin)
        return Int64(info.st_mtimespec.tv_sec)
        #else
        return Int64(info.st_mtim.tv_sec)
        #endif
    }

    static func makeDirectories(_ path: String) throws(EventLogError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw self.ioError("mkdir", prefix, errno: errno)
            }
            prefix += "/"
        }
        var info = stat()
        if stat(path, &info) != 0 { throw self.ioError("stat", path, errno: errno) }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            throw EventLogError(code: .io, message: "\(path) exists and is not a directory")
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws(EventLogError) -> [String] {
        guard let dir = opendir(path) else { throw self.ioError("opendir", path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw self.ioError("readdir", path, errno: errno) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Reads a small file whole, or nil when it cannot be read.
    static func contents(_ path: String) -> String? {
        guard let fd = try? self.openFile(path, O_RDONLY) else { return nil }
        defer { self.closeFile(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { buffer in
            (try? self.readFile(fd, into: buffer.baseAddress!, count: buffer.count, at: 0, path: path)) ?? 0
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// Starts `body` on a new detached OS thread, outside Swift concurrency's cooperative pool.
    static func startThread(named name: String, _ body: @escaping @Sendable () -> Void) throws(EventLogError) {
        let box = Unmanaged.passRetained(ThreadBody(name: name, run: body)).toOpaque()
        #if canImport(Glibc)
        var handle = pthread_t()
        #else
        var handle: pthread_t? = nil
        #endif
        let result = pthread_create(
            &handle, nil,
            { argument in
                // Optional-cast then unwrap: the start routine takes a non-optional pointer on Darwin.
                let body = Unmanaged<ThreadBody>.fromOpaque((argument as UnsafeMutableRawPointer?)!)
                    .takeRetainedValue()
                #if canImport(Darwin)
                body.name.withCString { _ = pthread_setname_np($0) }
                #endif
                // Glibc's module map hides pthread_setname_np (a GNU extension), so Linux threads stay unnamed.
                body.run()
                return nil
            },
            box
        )
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw EventLogError(code: .io, message: "cannot start thread \(name) (\(self.errorText(result)))")
        }
        #if canImport(Glibc)
        pthread_detach(handle)
        #else
        pthread_detach(handle!)
        #endif
    }

    private final class ThreadBody {
        let name: String
        let run: @Sendable () -> Void

        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }
}
