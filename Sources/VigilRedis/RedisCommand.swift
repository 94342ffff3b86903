import NIOCore

/// A command and the key that decides which cluster node runs it.
public struct RedisCommand: Sendable, Hashable {
    public var arguments: [RedisArgument]
    /// The key whose hash slot routes the command in a cluster; `nil` sends it to any node.
    public var key: RedisArgument?

    /// A command with an explicit routing key.
    public init(_ arguments: [RedisArgument], key: RedisArgument?) {
        self.arguments = arguments
        self.key = key
    }

    /// A command whose routing key is inferred: the first argument after the name, except for commands without keys
    /// (``keylessCommands``) and for `EVAL`/`EVALSHA`/`FCALL`, whose first key follows the key count. Pass `key:`
    /// explicitly for anything else.
    public init(_ arguments: [RedisArgument]) {
        self.arguments = arguments
        self.key = Self.inferredKey(arguments)
    }

    public init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }

    /// Commands routed to any node because they name no key.
    public static let keylessCommands: Set<String> = [
        "ACL", "ASKING", "AUTH", "BGREWRITEAOF", "BGSAVE", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DBSIZE", "DEBUG",
        "DISCARD", "ECHO", "EXEC", "FLUSHALL", "FLUSHDB", "FUNCTION", "HELLO", "INFO", "KEYS", "LASTSAVE", "LATENCY",
        "MEMORY", "MULTI", "PING", "PUBLISH", "QUIT", "RANDOMKEY", "READONLY", "READWRITE", "RESET", "ROLE", "SAVE", "SCAN",
        "SCRIPT", "SELECT", "SLOWLOG", "TIME", "WAIT",
    ]

    static func inferredKey(_ arguments: [RedisArgument]) -> RedisArgument? {
        guard let first = arguments.first else { return nil }
        let name = String(buffer: first.bytes).uppercased()
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count > 3, let count = Int(String(buffer: arguments[2].bytes)), count > 0 else { return nil }
            return arguments[3]
        case _ where keylessCommands.contains(name):
            return nil
        default:
            return arguments.count > 1 ? arguments[1] : nil
        }
    }
}
