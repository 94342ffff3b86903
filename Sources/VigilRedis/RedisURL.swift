/// Where and how to reach Redis or Valkey, parsed from a URL:
/// `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS), or `redis+cluster://host:port,host:port,…`
/// (`rediss+cluster://` for a cluster over TLS).
///
/// Its ``description`` shows `***` for the password, so the URL can be logged.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    /// One server address.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The server for a single-node URL; the seed nodes for a cluster URL.
    public var endpoints: [Endpoint]
    public var tls: Bool
    public var cluster: Bool
    /// The ACL user for `AUTH user password`; `nil` means `AUTH password` (the `default` user).
    public var username: String?
    public var password: RedisPassword?
    /// The database to `SELECT`; always 0 for a cluster.
    public var database: Int

    public static let defaultPort = 6379

    public init(endpoints: [Endpoint], tls: Bool = false, cluster: Bool = false, username: String? = nil, password: RedisPassword? = nil, database: Int = 0) {
        self.endpoints = endpoints
        self.tls = tls
        self.cluster = cluster
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a URL.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL`` saying what is wrong. The message never
    ///   repeats the user information, so it never holds the password.
    public init(_ string: String) throws(RedisError) {
        guard let schemeEnd = string.firstRange(of: "://") else {
            throw Self.invalid("the URL has no scheme; use redis://, rediss://, redis+cluster:// or rediss+cluster://")
        }
        switch string[..<schemeEnd.lowerBound].lowercased() {
        case "redis": (tls, cluster) = (false, false)
        case "rediss": (tls, cluster) = (true, false)
        case "redis+cluster": (tls, cluster) = (false, true)
        case "rediss+cluster": (tls, cluster) = (true, true)
        default:
            throw Self.invalid("unsupported scheme; use redis://, rediss://, redis+cluster:// or rediss+cluster://")
        }
        var rest = string[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw Self.invalid("query strings and fragments are not supported")
        }
        username = nil
        password = nil
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let user: Substring
            let secret: Substring?
            if let colon = userinfo.firstIndex(of: ":") {
                user = userinfo[..<colon]
                secret = userinfo[userinfo.index(after: colon)...]
            } else {
                // `redis://secret@host` is how many tools write a password for the default user.
                user = ""
                secret = userinfo
            }
            if !user.isEmpty {
                guard let decoded = Self.percentDecoded(user) else { throw Self.invalid("the user name has an invalid percent escape") }
                username = decoded
            }
            if let secret, !secret.isEmpty {
                guard let decoded = Self.percentDecoded(secret) else { throw Self.invalid("the password has an invalid percent escape") }
                password = RedisPassword(decoded)
            }
        }
        database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0, db <= 1_000_000 else {
                    throw Self.invalid("the database after '/' must be a non-negative number")
                }
                if cluster && db != 0 { throw Self.invalid("a cluster has only database 0") }
                database = db
            }
        }
        let hosts = rest.split(separator: ",", omittingEmptySubsequences: false)
        if hosts.count > 1 && !cluster {
            throw Self.invalid("several hosts are only allowed with redis+cluster:// or rediss+cluster://")
        }
        endpoints = try hosts.map { (host) throws(RedisError) in try Self.endpoint(host) }
    }

    private static func endpoint(_ text: Substring) throws(RedisError) -> Endpoint {
        guard !text.isEmpty else { throw invalid("a host is empty") }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("an IPv6 address lacks its closing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("expected ':port' after an IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw invalid("a host is empty") }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw invalid("a port must be a number from 1 to 65535") }
            port = value
        }
        return Endpoint(host: String(host), port: port)
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func invalid(_ message: String) -> RedisError {
        RedisError(code: .invalidURL, message: "invalid Redis URL: \(message)")
    }

    public var description: String {
        let scheme = (tls ? "rediss" : "redis") + (cluster ? "+cluster" : "")
        var userinfo = ""
        if username != nil || password != nil {
            userinfo = (username ?? "") + (password != nil ? ":***" : "") + "@"
        }
        let db = database != 0 ? "/\(database)" : ""
        return "\(scheme)://\(userinfo)\(endpoints.map(\.description).joined(separator: ","))\(db)"
    }
}

/// A password that prints as `***` in descriptions, debug descriptions, dumps and reflection.
public struct RedisPassword: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "***" }
    public var debugDescription: String { "***" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
