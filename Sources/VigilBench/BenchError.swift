/// Why a load run could not start or finish: a bad option, an unreachable server, a server that would not start.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The options contradict each other or are out of range.
        public static let invalidOption = Code(name: "invalidOption")
        /// The payments could not be simulated or read.
        public static let payments = Code(name: "payments")
        /// A connection to the server could not be opened.
        public static let connect = Code(name: "connect")
        /// The spawned server did not start, did not become ready or had no demo key.
        public static let server = Code(name: "server")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
