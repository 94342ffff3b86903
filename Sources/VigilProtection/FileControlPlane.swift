import Foundation
import VigilDomain

/// The embedded control plane: each document a 0600 file in the data directory (`tenants.json`, `keys.json`,
/// `signing-keys.json`) and the audit log `audit.log`, as Vigil has always kept them.
///
/// A writer holds an exclusive `flock` on the document's lock file (`tenants.lock`, `keys.lock`,
/// `signing-keys.lock`) and replaces the file atomically, so the CLI and a running server never lose each other's
/// changes. The audit log is appended and fsynced under a lock on the log itself.
public struct FileControlPlane: ControlPlane {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var location: String { directory }

    public func location(of document: ControlDocument) -> String { path(document) }

    public func path(_ document: ControlDocument) -> String { directory + "/" + document.name }

    /// The audit log's path.
    public var auditPath: String { directory + "/audit.log" }

    func lockPath(_ document: ControlDocument) -> String {
        directory + "/" + (document.name.hasSuffix(".json") ? String(document.name.dropLast(5)) : document.name) + ".lock"
    }

    public func read(_ document: ControlDocument) throws -> [UInt8]? {
        let path = path(document)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ControlPlaneError(.io, "cannot read \(path)")
        }
        return Array(data)
    }

    public func update<T>(_ document: ControlDocument, _ change: ([UInt8]?) throws -> (ControlDocumentChange, T)) throws -> T {
        if document == .signingKeys {
            // `vigil tenant token` may make the first signing key; its store has always made the directory for it.
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw ControlPlaneError(.io, "cannot create data directory \(directory): \(error.localizedDescription)")
            }
        }
        let lockPath = lockPath(document)
        let lock = open(lockPath, O_RDWR | O_CREAT, 0o600)
        guard lock >= 0 else { throw ControlPlaneError(.io, "cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw ControlPlaneError(.io, "cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        let (outcome, result) = try change(try read(document))
        if case .write(let bytes) = outcome {
            do {
                try AtomicFile.write(bytes, to: path(document), mode: 0o600)
            } catch {
                throw ControlPlaneError(.io, "cannot write \(path(document)): \(error)")
            }
        }
        return result
    }

    /// An atomic rename gives a new inode, and a write within the same clock tick still changes the size or the
    /// (sub-microsecond) modification time.
    public func stamp(_ document: ControlDocument) throws -> ControlDocumentStamp {
        var info = stat()
        guard stat(path(document), &info) == 0 else { return .absent }
        return ControlDocumentStamp([
            Int64(bitPattern: UInt64(info.st_ino)), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec),
        ])
    }

    public func appendAudit(_ makeLine: ([UInt8]?) throws -> [UInt8]) throws {
        let path = auditPath
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw ControlPlaneError(.io, "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw ControlPlaneError(.io, "cannot lock the audit log \(path)") }
        let bytes = try makeLine(try lastAuditLine(fd)) + [0x0A]
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw ControlPlaneError(.io, "cannot write the audit log \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The last complete line of the audit log (nil when it is empty). A torn last line (a crash mid-append, never
    /// acknowledged) is cut off first.
    func lastAuditLine(_ fd: Int32) throws -> [UInt8]? {
        let path = auditPath
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return nil }
        let window = min(Int(size), 1 << 16)
        var buffer = [UInt8](repeating: 0, count: window)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(size) - off_t(window)) }
        guard n == window else { throw ControlPlaneError(.io, "cannot read the audit log \(path)") }
        guard let lastNewline = buffer.lastIndex(of: 0x0A) else {
            throw ControlPlaneError(.malformed, "the audit log \(path) ends in a line over 64 KiB; it is not Vigil's")
        }
        if lastNewline != window - 1 {
            guard ftruncate(fd, off_t(size) - off_t(window - 1 - lastNewline)) == 0 else {
                throw ControlPlaneError(.io, "cannot cut the torn last line of the audit log \(path)")
            }
        }
        let start = (buffer[..<lastNewline].lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0
        guard start > 0 || window == Int(size) else {
            throw ControlPlaneError(.malformed, "the audit log \(path) has a line over 64 KiB; it is not Vigil's")
        }
        return Array(buffer[start..<lastNewline])
    }

    public func auditRecords(_ body: ([UInt8]) throws -> Void) throws {
        let path = auditPath
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { return }
            throw ControlPlaneError(.io, "cannot read the audit log \(path)")
        }
        let bytes = [UInt8](data)
        var start = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            try body(Array(bytes[start..<end]))
            start = end + 1
        }
    }
}
