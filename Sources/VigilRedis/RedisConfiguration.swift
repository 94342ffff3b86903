public import NIOCore
public import NIOSSL

/// How the client connects and how long it waits. Every field has a default.
public struct RedisConfiguration: Sendable {
    /// How long one command may wait for its answer. On expiry the command fails with
    /// ``RedisError/Code/timeout`` and its connection closes (later answers could no longer be matched to their
    /// commands); the next command opens a new one. `nil` waits forever.
    public var commandTimeout: TimeAmount?
    /// How long opening a connection (TCP, TLS, `AUTH`, `SELECT`) may take.
    public var connectTimeout: TimeAmount
    /// The most connections the client opens to one node. Commands are pipelined on them, so a few suffice.
    public var maxConnectionsPerNode: Int
    /// How many `MOVED`/`ASK` redirects one cluster command may follow before it fails with
    /// ``RedisError/Code/redirectLimit``.
    public var maxRedirects: Int
    /// TLS settings for `rediss://`; `nil` means NIOSSL's client defaults (system trust roots, hostname checked).
    public var tls: TLSConfiguration?
    /// Bounds on what the server may send.
    public var parserLimits: RESPParser.Limits

    public init(
        commandTimeout: TimeAmount? = .seconds(5),
        connectTimeout: TimeAmount = .seconds(2),
        maxConnectionsPerNode: Int = 2,
        maxRedirects: Int = 5,
        tls: TLSConfiguration? = nil,
        parserLimits: RESPParser.Limits = RESPParser.Limits()
    ) {
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.maxConnectionsPerNode = max(1, maxConnectionsPerNode)
        self.maxRedirects = maxRedirects
        self.tls = tls
        self.parserLimits = parserLimits
    }
}
