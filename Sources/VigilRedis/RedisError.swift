/// A failure of the Redis client: what kind it is (``Code``) and a message that never holds a password.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL, connection, connectionClosed, timeout, authentication, server, protocolViolation
            case redirectLimit, clusterMap, poolClosed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL could not be parsed or names something unsupported.
        public static let invalidURL = Code(.invalidURL)
        /// A connection could not be established (refused, unreachable, TLS handshake failed, connect timeout).
        public static let connection = Code(.connection)
        /// The connection closed (or was closed after a timeout) before the answer arrived.
        public static let connectionClosed = Code(.connectionClosed)
        /// No answer within the command timeout; the connection is closed, since its answers can no longer be matched.
        public static let timeout = Code(.timeout)
        /// The server refused the credentials or requires some (`WRONGPASS`, `NOAUTH`, `NOPERM` on AUTH).
        public static let authentication = Code(.authentication)
        /// The server answered with an error (`-ERR …`, `-WRONGTYPE …`); the message is the server's.
        public static let server = Code(.server)
        /// The bytes received are not RESP2, or exceed a size limit.
        public static let protocolViolation = Code(.protocolViolation)
        /// A cluster command was redirected (`MOVED`/`ASK`) more often than allowed.
        public static let redirectLimit = Code(.redirectLimit)
        /// The cluster's slot map could not be read or does not cover a slot.
        public static let clusterMap = Code(.clusterMap)
        /// The client was closed.
        public static let poolClosed = Code(.poolClosed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// A human-readable explanation. It never contains a password. For ``Code/server`` it is the server's own
    /// message, which for an unknown command quotes the command's first arguments (Redis does that).
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "RedisError.\(code): \(message)" }

    static func server(_ message: String) -> RedisError {
        let prefix = message.prefix(while: { $0 != " " })
        switch prefix {
        case "WRONGPASS", "NOAUTH": return RedisError(code: .authentication, message: message)
        default: return RedisError(code: .server, message: message)
        }
    }
}
