public import NIOCore
public import NIOPosix
import NIOSSL
import Synchronization

/// One connection to one Redis or Valkey node: commands are pipelined on it and answers are matched in order.
///
/// Most code uses ``RedisClient``, which pools connections and follows cluster redirects. A connection is useful on
/// its own to talk to one specific node (administration, tests).
public final class RedisConnection: Sendable {
    let channel: any Channel
    /// The node this connection talks to.
    public let endpoint: RedisURL.Endpoint
    private let failed: FailureFlag

    private init(channel: any Channel, endpoint: RedisURL.Endpoint, failed: FailureFlag) {
        self.channel = channel
        self.endpoint = endpoint
        self.failed = failed
    }

    /// Opens a connection, authenticates with the URL's credentials and selects its database.
    /// - Parameters:
    ///   - endpoint: the node; `nil` means the URL's first endpoint.
    /// - Throws: ``RedisError`` with code `connection`, `timeout` or `authentication`.
    public static func connect(
        url: RedisURL, endpoint: RedisURL.Endpoint? = nil, configuration: RedisConfiguration = RedisConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisError) -> RedisConnection {
        try await RedisError.catching {
            try await makeConnection(url: url, endpoint: endpoint ?? url.endpoints[0], configuration: configuration, eventLoop: eventLoopGroup.next()).get()
        }
    }

    static func makeConnection(
        url: RedisURL, endpoint: RedisURL.Endpoint, configuration: RedisConfiguration, eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisConnection> {
        let sslContext: NIOSSLContext?
        if url.tls {
            do {
                sslContext = try NIOSSLContext(configuration: configuration.tls ?? .makeClientConfiguration())
            } catch {
                return eventLoop.makeFailedFuture(RedisError(code: .connection, message: "TLS configuration rejected: \(error)"))
            }
        } else {
            sslContext = nil
        }
        let isAddress = (try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port)) != nil
        let parser = RESPParser(limits: configuration.parserLimits)
        let commandTimeout = configuration.commandTimeout
        let failed = FailureFlag()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        // An IP address cannot go in SNI; NIOSSL then checks the certificate against the peer address.
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : endpoint.host))
                    }
                    try sync.addHandler(ByteToMessageHandler(RESPDecoder(parser: parser)))
                    try sync.addHandler(RedisCommandHandler(timeout: commandTimeout, failed: failed))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let deadline = NIODeadline.now() + configuration.connectTimeout
        let connected = bootstrap.connect(host: endpoint.host, port: endpoint.port)
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error {
                    throw RedisError(code: .timeout, message: "connecting to \(endpoint) timed out")
                }
                throw RedisError(code: .connection, message: "cannot connect to \(endpoint): \(error)")
            }
            .map { RedisConnection(channel: $0, endpoint: endpoint, failed: failed) }
        return connected.flatMap { connection in
            var handshake: [[RedisArgument]] = []
            if let password = url.password {
                if let user = url.username {
                    handshake.append(["AUTH", RedisArgument(user), RedisArgument(password.value)])
                } else {
                    handshake.append(["AUTH", RedisArgument(password.value)])
                }
            }
            if url.database != 0 { handshake.append(["SELECT", RedisArgument(url.database)]) }
            // Without AUTH or SELECT, a PING still proves the server speaks RESP, completes the TLS handshake, and
            // turns a missing password into an error here rather than on the first real command.
            if handshake.isEmpty { handshake.append(["PING"]) }
            // TLS and AUTH must finish within the connect timeout too, not only the TCP handshake.
            let timeout = eventLoop.scheduleTask(deadline: deadline) {
                connection.channel.close(promise: nil)
            }
            return connection.pipelineFuture(handshake).flatMapThrowing { replies in
                timeout.cancel()
                for reply in replies {
                    if case .error(let message) = reply {
                        connection.channel.close(promise: nil)
                        throw RedisError.server(message)
                    }
                }
                return connection
            }.flatMapErrorThrowing { error in
                timeout.cancel()
                connection.channel.close(promise: nil)
                if NIODeadline.now() >= deadline {
                    throw RedisError(code: .timeout, message: "connecting to \(endpoint) timed out")
                }
                // A connection that closes before its handshake is answered never connected: a TLS handshake the
                // client refused closes it, and depending on timing that shows as a write to a closed channel.
                if let closed = error as? RedisError, closed.code == .connectionClosed {
                    throw RedisError(
                        code: .connection,
                        message: "cannot connect to \(endpoint): the connection closed during the handshake (TLS or AUTH)"
                    )
                }
                throw error
            }
        }
    }

    /// Whether the connection is open and usable. A connection that failed (closed by the server, a timeout, a
    /// protocol violation) is not, even while its channel is still closing; it fails every command at once.
    public var isActive: Bool { channel.isActive && !failed.isSet }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Sends one command and waits for its answer.
    /// - Throws: ``RedisError``: `server` (or `authentication`) when the answer is an error, or a transport error.
    public func send(_ arguments: [RedisArgument]) async throws(RedisError) -> RedisValue {
        let reply = try await RedisError.catching { try await pipelineFuture([arguments]).get()[0] }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends one command and waits for its answer.
    public func send(_ arguments: RedisArgument...) async throws(RedisError) -> RedisValue {
        try await send(arguments)
    }

    /// Writes all commands at once, then waits for all answers, in order. Server errors are returned as
    /// ``RedisValue/error(_:)`` values in their place; transport failures throw.
    public func pipeline(_ commands: [[RedisArgument]]) async throws(RedisError) -> [RedisValue] {
        try await RedisError.catching { try await pipelineFuture(commands).get() }
    }

    func pipelineFuture(_ commands: [[RedisArgument]]) -> EventLoopFuture<[RedisValue]> {
        let eventLoop = channel.eventLoop
        guard isActive else {
            return eventLoop.makeFailedFuture(RedisError(code: .connectionClosed, message: "the connection to \(endpoint) is closed"))
        }
        guard !commands.isEmpty else { return eventLoop.makeSucceededFuture([]) }
        var futures: [EventLoopFuture<RedisValue>] = []
        futures.reserveCapacity(commands.count)
        var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
        var promises: [EventLoopPromise<RedisValue>] = []
        for command in commands {
            RESPEncoder.encode(command, into: &buffer)
            let promise = eventLoop.makePromise(of: RedisValue.self)
            promises.append(promise)
            futures.append(promise.futureResult)
        }
        let request = RedisRequest(bytes: buffer, promises: promises)
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [endpoint, promises] error in
            let failure = error as? RedisError ?? RedisError(code: .connectionClosed, message: "the connection to \(endpoint) is closed")
            for promise in promises { promise.fail(failure) }
        }
        channel.writeAndFlush(request, promise: written)
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop)
    }

    /// Closes the connection; commands still waiting fail with ``RedisError/Code/connectionClosed``.
    public func close() async {
        try? await channel.close()
    }
}

/// Commands already encoded, and the promises their answers complete, in order.
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<RedisValue>]
}

/// Matches answers to commands in the order they were written, and fails them all when the connection ends.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RedisValue>
        var timeout: Scheduled<Void>?
    }

    private let timeout: TimeAmount?
    private let failed: FailureFlag
    private var pending = CircularBuffer<Pending>()
    private var failure: RedisError?

    init(timeout: TimeAmount?, failed: FailureFlag) {
        self.timeout = timeout
        self.failed = failed
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            promise?.fail(failure)
            return
        }
        for commandPromise in request.promises {
            var scheduled: Scheduled<Void>?
            if let timeout {
                scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                    self.fail(context: context, RedisError(code: .timeout, message: "no answer within \(timeout)"))
                }
            }
            pending.append(Pending(promise: commandPromise, timeout: scheduled))
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let first = pending.popFirst() else {
            fail(context: context, RedisError(code: .protocolViolation, message: "an answer arrived that no command asked for"))
            return
        }
        first.timeout?.cancel()
        first.promise.succeed(value)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error as? RedisError ?? RedisError(code: .connection, message: "connection failed: \(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, RedisError(code: .connectionClosed, message: "the connection closed before the answer arrived"))
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        if failure == nil { failure = error }
        // Set before the waiting commands learn of the failure, so the pool never hands this connection out again.
        failed.set()
        while let next = pending.popFirst() {
            next.timeout?.cancel()
            next.promise.fail(error)
        }
        context.close(promise: nil)
    }
}

extension RedisError {
    /// Runs `body`, turning whatever it throws into a ``RedisError``.
    static func catching<T>(_ body: () async throws -> T) async throws(RedisError) -> T {
        do {
            return try await body()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(code: .connection, message: "\(error)")
        }
    }
}

/// Set once a connection has failed, readable from any thread.
final class FailureFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
