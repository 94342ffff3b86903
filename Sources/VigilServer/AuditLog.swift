import Crypto
public import Foundation
import VigilDomain
import VigilJSON

/// `DATA/audit.log`: every administrative action, one JSON line each, appended and fsynced before the action is
/// reported done. Lines are hash-chained (each carries the SHA-256 of the line before), so an edit or a deletion
/// inside the file shows up in `vigil audit export`. Records hold who, what and when, never a secret: callers
/// pass names, versions and counts, and the API keys, tokens and key material they handle never reach `details`.
public struct AuditLog: Sendable {
    /// Who acted: the operating-system user running the command (and the sudo user behind it), or the server.
    public struct Actor: Sendable, Equatable {
        public var name: String
        public var detail: [String: String]

        public init(name: String, detail: [String: String] = [:]) {
            self.name = name
            self.detail = detail
        }

        /// The user running this process, as the kernel knows it (effective uid), plus `SUDO_USER` when set.
        public static func currentUser() -> Actor {
            let environment = ProcessInfo.processInfo.environment
            let uid = geteuid()
            let name = getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(uid)"
            var detail = ["uid": String(uid), "pid": String(getpid())]
            let host = ProcessInfo.processInfo.hostName
            if !host.isEmpty { detail["host"] = host }
            if let sudo = environment["SUDO_USER"] { detail["sudoUser"] = sudo }
            return Actor(name: name, detail: detail)
        }

        /// The running server, acting on its own (first-start set-up, a hand-edited file it reloaded).
        public static let server = Actor(name: "vigil serve", detail: ["pid": String(getpid())])
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String

    public init(dataDirectory: String) {
        path = dataDirectory + "/audit.log"
    }

    /// Appends one record and makes it durable. Throws, having written nothing, when the log cannot be written.
    public func append(actor: Actor, action: String, target: String?, details: [String: String] = [:], at date: Date = Date()) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw Invalid(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw Invalid(description: "cannot lock the audit log \(path)") }
        let (sequence, previous) = try tail(fd)
        var line = JSONWriter()
        line.beginObject()
        line.key("seq")
        line.int(sequence)
        line.key("time")
        line.string(Self.timestamp(date))
        line.key("actor")
        line.beginObject()
        line.key("name")
        line.string(actor.name)
        for (key, value) in actor.detail.sorted(by: { $0.key < $1.key }) {
            line.key(key)
            line.string(value)
        }
        line.endObject()
        line.key("action")
        line.string(action)
        if let target {
            line.key("target")
            line.string(target)
        }
        if !details.isEmpty {
            line.key("details")
            line.beginObject()
            for (key, value) in details.sorted(by: { $0.key < $1.key }) {
                line.key(key)
                line.string(value)
            }
            line.endObject()
        }
        line.key("prev")
        line.string(previous)
        line.endObject()
        let bytes = line.bytes + [0x0A]
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw Invalid(description: "cannot write the audit log \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The next sequence number and the hash of the last complete line. A torn last line (a crash mid-append,
    /// never acknowledged) is cut off first.
    func tail(_ fd: Int32) throws -> (Int, String) {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return (1, Self.genesis) }
        let window = min(Int(size), 1 << 16)
        var buffer = [UInt8](repeating: 0, count: window)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(size) - off_t(window)) }
        guard n == window else { throw Invalid(description: "cannot read the audit log \(path)") }
        guard let lastNewline = buffer.lastIndex(of: 0x0A) else {
            throw Invalid(description: "the audit log \(path) ends in a line over 64 KiB; it is not Vigil's")
        }
        if lastNewline != window - 1 {
            guard ftruncate(fd, off_t(size) - off_t(window - 1 - lastNewline)) == 0 else {
                throw Invalid(description: "cannot cut the torn last line of the audit log \(path)")
            }
        }
        let start = (buffer[..<lastNewline].lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0
        guard start > 0 || window == Int(size) else {
            throw Invalid(description: "the audit log \(path) has a line over 64 KiB; it is not Vigil's")
        }
        let last = Array(buffer[start..<lastNewline])
        guard let record = try? JSONParser.parse(last), case .number(let seq)? = record["seq"], let sequence = Int(seq) else {
            throw Invalid(description: "the last line of the audit log \(path) is not an audit record")
        }
        return (sequence + 1, Self.hash(last))
    }

    static let genesis = String(repeating: "0", count: 64)

    static func hash(_ line: [UInt8]) -> String {
        SHA256.hash(data: line).withUnsafeBytes { Hex.encode($0) }
    }

    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return Instant(epochMillis: millis).rfc3339UTC
    }

    /// A break in the chain: the line whose `prev` does not match, or an unparsable line.
    public struct ChainBreak: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "audit log line \(line): \(reason)" }
    }

    /// Calls `body` with each complete line in order after checking it continues the chain.
    public func forEach(_ body: ([UInt8]) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { return }
            throw Invalid(description: "cannot read the audit log \(path)")
        }
        let bytes = [UInt8](data)
        var previous = Self.genesis
        var expected = 1
        var lineNumber = 0
        var start = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            lineNumber += 1
            let line = Array(bytes[start..<end])
            guard let record = try? JSONParser.parse(line), case .object = record else {
                throw ChainBreak(line: lineNumber, reason: "not a JSON object")
            }
            guard case .string(let prev)? = record["prev"], prev == previous else {
                throw ChainBreak(line: lineNumber, reason: "does not follow the line before it (edited, inserted or deleted lines)")
            }
            guard case .number(let seq)? = record["seq"], Int(seq) == expected else {
                throw ChainBreak(line: lineNumber, reason: "sequence number is not \(expected)")
            }
            try body(line)
            previous = Self.hash(line)
            expected += 1
            start = end + 1
        }
    }
}
