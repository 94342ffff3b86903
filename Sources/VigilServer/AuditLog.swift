import Crypto
public import Foundation
import VigilDomain
public import VigilProtection
import VigilJSON

/// Every administrative action, one JSON line each, appended and made durable before the action is reported done:
/// `DATA/audit.log` in the embedded default, a table with the PostgreSQL control plane. Lines are hash-chained
/// (each carries the SHA-256 of the line before), so an edit or a deletion shows up in `vigil audit export`,
/// whichever store holds them. Records hold who, what and when, never a secret: callers
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

    public let plane: any ControlPlane

    public init(plane: any ControlPlane) {
        self.plane = plane
    }

    /// `DATA/audit.log`, the embedded default.
    public init(dataDirectory: String) {
        self.init(plane: FileControlPlane(directory: dataDirectory))
    }

    /// Where the log is, for messages.
    public var path: String { (plane as? FileControlPlane)?.auditPath ?? "the audit log in \(plane.location)" }

    /// Appends one record and makes it durable. Throws, having written nothing, when the log cannot be written.
    public func append(actor: Actor, action: String, target: String?, details: [String: String] = [:], at date: Date = Date()) throws {
        try plane.appendAudit { last in
            let (sequence, previous) = try next(after: last)
            return Self.record(
                sequence: sequence, previous: previous, actor: actor, action: action, target: target, details: details, date: date
            )
        }
    }

    static func record(
        sequence: Int, previous: String, actor: Actor, action: String, target: String?, details: [String: String], date: Date
    ) -> [UInt8] {
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
        return line.bytes
    }

    /// The next sequence number and the hash of the last record.
    func next(after last: [UInt8]?) throws -> (Int, String) {
        guard let last else { return (1, Self.genesis) }
        guard let record = try? JSONParser.parse(last), case .number(let seq)? = record["seq"], let sequence = Int(seq) else {
            throw Invalid(description: "the last line of \(path) is not an audit record")
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
        var previous = Self.genesis
        var expected = 1
        var lineNumber = 0
        try plane.auditRecords { line in
            lineNumber += 1
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
        }
    }
}
