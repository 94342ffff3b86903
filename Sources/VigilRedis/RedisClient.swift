import Synchronization
public import NIOCore
public import NIOPosix

/// A Redis or Valkey client: a pool of pipelined connections per node, to one server or to a cluster.
///
/// ```swift
/// let redis = try await RedisClient.connect(url: "redis://app:secret@127.0.0.1:6379/0")
/// _ = try await redis.send("SET", "greeting", "hello")
/// let counts = try await redis.pipeline((0..<100).map { _ in RedisCommand("INCR", "hits") })
/// await redis.close()
/// ```
public final class RedisClient: Sendable {
    private enum Backend {
        case single(RedisConnectionPool)
        case cluster(RedisCluster)
    }

    /// The URL the client was made with; its description hides the password.
    public let url: RedisURL
    private let backend: Backend

    private init(url: RedisURL, backend: Backend) {
        self.url = url
        self.backend = backend
    }

    /// Connects to the server or cluster `url` names: opens a first connection (so a wrong password or an
    /// unreachable server fails here) and, for a cluster, reads its slot map.
    /// - Throws: ``RedisError`` with code `invalidURL`, `connection`, `timeout`, `authentication` or `clusterMap`.
    public static func connect(
        url: String, configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisError) -> RedisClient {
        try await connect(url: RedisURL(url), configuration: configuration, eventLoopGroup: eventLoopGroup)
    }

    public static func connect(
        url: RedisURL, configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisError) -> RedisClient {
        guard !url.endpoints.isEmpty else { throw RedisError(code: .invalidURL, message: "invalid Redis URL: no host") }
        if url.cluster {
            let cluster = RedisCluster(url: url, configuration: configuration, eventLoopGroup: eventLoopGroup)
            do {
                try await cluster.refresh()
            } catch {
                await cluster.close()
                throw error
            }
            return RedisClient(url: url, backend: .cluster(cluster))
        }
        let pool = RedisConnectionPool(url: url, endpoint: url.endpoints[0], configuration: configuration, eventLoopGroup: eventLoopGroup)
        do {
            _ = try await pool.connection()
        } catch {
            await pool.close()
            throw error
        }
        return RedisClient(url: url, backend: .single(pool))
    }

    /// A client for one server (not a cluster) that connects on its first command instead of now, and again after
    /// a failure: for a store that may be down when the process starts and must not stop it (a peer region's).
    /// - Throws: ``RedisError`` `invalidURL` for a cluster URL or one without a host.
    public static func connectingLazily(
        url: RedisURL, configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(RedisError) -> RedisClient {
        guard !url.endpoints.isEmpty else { throw RedisError(code: .invalidURL, message: "invalid Redis URL: no host") }
        guard !url.cluster else { throw RedisError(code: .invalidURL, message: "a lazily connecting client serves one server, not a cluster") }
        let pool = RedisConnectionPool(url: url, endpoint: url.endpoints[0], configuration: configuration, eventLoopGroup: eventLoopGroup)
        return RedisClient(url: url, backend: .single(pool))
    }

    /// Sends one command and returns its answer.
    /// - Throws: ``RedisError``: `server` when the server answers with an error (its message included), or a
    ///   transport, timeout or redirect error.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        let reply: RedisValue
        switch backend {
        case .single(let pool): reply = try await pool.connection().pipeline([command.arguments])[0]
        case .cluster(let cluster): reply = try await cluster.execute(command)
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends one command; in a cluster it is routed by the key ``RedisCommand/init(_:)-(RedisArgument...)`` infers.
    public func send(_ arguments: RedisArgument...) async throws(RedisError) -> RedisValue {
        try await send(RedisCommand(arguments))
    }

    /// Sends all commands without waiting between them and returns their answers in order. A server error answers
    /// its own command as ``RedisValue/error(_:)`` and does not stop the others; a transport failure throws.
    /// In a cluster the commands go as one pipeline per primary.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisValue] {
        switch backend {
        case .single(let pool): return try await pool.connection().pipeline(commands.map(\.arguments))
        case .cluster(let cluster): return try await cluster.pipeline(commands)
        }
    }

    /// Runs `script` atomically with `EVALSHA`, sending its body with `EVAL` only if the server answers `NOSCRIPT`.
    /// In a cluster every key must hash to one slot (use one `{hash tag}`); the first key routes the script.
    public func eval(_ script: RedisScript, keys: [RedisArgument] = [], arguments: [RedisArgument] = []) async throws(RedisError) -> RedisValue {
        let tail = [RedisArgument(keys.count)] + keys + arguments
        do {
            return try await send(RedisCommand(["EVALSHA", RedisArgument(script.sha1)] + tail, key: keys.first))
        } catch where error.code == .server && error.message.hasPrefix("NOSCRIPT") {
            return try await send(RedisCommand(["EVAL", RedisArgument(script.source)] + tail, key: keys.first))
        }
    }

    /// Closes every connection. Commands sent afterwards fail with ``RedisError/Code/poolClosed``.
    public func close() async {
        switch backend {
        case .single(let pool): await pool.close()
        case .cluster(let cluster): await cluster.close()
        }
    }

    /// Reads the cluster's slot map again; nothing for a single server.
    public func refreshSlotMap() async throws(RedisError) {
        if case .cluster(let cluster) = backend { try await cluster.refresh() }
    }

    /// How many `MOVED`/`ASK` redirects the client has followed.
    public var redirectsFollowed: Int {
        if case .cluster(let cluster) = backend { return cluster.redirects.load(ordering: .relaxed) }
        return 0
    }

    /// The connections open now, for tests.
    var openConnections: [RedisConnection] {
        switch backend {
        case .single(let pool): return pool.openConnections
        case .cluster(let cluster): return cluster.openConnections
        }
    }
}
