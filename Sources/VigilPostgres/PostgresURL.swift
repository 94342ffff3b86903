/// A control-plane address, `postgres://user[:password]@host[:port]/database`.
///
/// The password is kept for connecting only: ``description`` (what messages and logs show) leaves it out.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// The form an address must have, for error messages.
    public static let expectedForm = "postgres://user[:password]@host:port/database"

    /// Why an address was refused. It never repeats the address, which may carry a password.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { "\(reason); expected \(PostgresURL.expectedForm)" }
    }

    /// Whether `text` asks for PostgreSQL at all (so a caller can tell "postgres, but malformed" from "something else").
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(user: String, password: String?, host: String, port: Int = 5432, database: String) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
    }

    public init(parsing text: String) throws(Invalid) {
        guard let scheme = ["postgres://", "postgresql://"].first(where: text.hasPrefix) else {
            throw Invalid(reason: "the control plane address must start with postgres://")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        if rest.contains("?") || rest.contains("#") {
            throw Invalid(reason: "the control plane address takes no query or fragment")
        }
        guard let at = rest.lastIndex(of: "@") else { throw Invalid(reason: "the control plane address names no user") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        let userText = credentials.firstIndex(of: ":").map { credentials[..<$0] } ?? credentials
        let passwordText = credentials.firstIndex(of: ":").map { credentials[credentials.index(after: $0)...] }
        guard let user = Self.percentDecoded(userText), !user.isEmpty else {
            throw Invalid(reason: "the control plane address names no user")
        }
        guard let slash = rest.firstIndex(of: "/") else { throw Invalid(reason: "the control plane address names no database") }
        let authority = rest[..<slash]
        guard let database = Self.percentDecoded(rest[rest.index(after: slash)...]), !database.isEmpty, !database.contains("/") else {
            throw Invalid(reason: "the control plane address names no database")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Invalid(reason: "the control plane address has an unclosed [IPv6] host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Invalid(reason: "the control plane address has a malformed host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw Invalid(reason: "the control plane address names no host") }
        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number), portText.allSatisfy(\.isASCII) else {
                throw Invalid(reason: "the control plane port must be a number from 1 to 65535")
            }
            port = number
        }
        var password: String?
        if let passwordText {
            guard let decoded = Self.percentDecoded(passwordText) else {
                throw Invalid(reason: "the control plane password has a malformed %-escape")
            }
            password = decoded
        }
        self.init(user: user, password: password, host: String(host), port: port, database: database)
    }

    /// The address without its password.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// `%XX` escapes decoded as UTF-8; nil for a malformed escape.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
