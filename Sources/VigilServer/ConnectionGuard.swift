import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOTLS
import Synchronization

/// Closes an HTTP connection whose client stalls: a request head or body that does not arrive in time, or a
/// kept-alive connection idle too long (`RequestDeadline` decides). It sits after the HTTP codec, so it sees
/// request parts, and works the same for an HTTP/1.1 connection and an HTTP/2 stream.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadline: RequestDeadline
    /// When the client must have shown progress; nil while the server owes the response.
    private var due: NIODeadline?
    /// The one pending timer and when it fires. It is moved only to an earlier time; firing early it re-arms for
    /// `due`, so a kept-alive connection's requests usually schedule nothing.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private let metrics: ServerMetrics

    init(limits: ConnectionLimits, metrics: ServerMetrics) {
        self.deadline = RequestDeadline(limits: limits)
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { perform(deadline.connected(), context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(deadline.connected(), context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: perform(deadline.receivedHead(), context: context)
        case .body: break
        case .end: perform(deadline.receivedEnd(), context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { perform(deadline.sentEnd(), context: context) }
        context.write(data, promise: promise)
    }

    private func perform(_ action: RequestDeadline.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .cancel:
            due = nil
        case .schedule(let duration):
            let at = NIODeadline.now() + TimeAmount(duration)
            due = at
            if let timer, timer.at <= at { return }
            arm(at: at, context: context)
        }
    }

    private func arm(at: NIODeadline, context: ChannelHandlerContext) {
        timer?.task.cancel()
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = loopBound.value
            handler.fired(context: context)
        }
        timer = (task, at)
    }

    private func fired(context: ChannelHandlerContext) {
        timer = nil
        guard let due, deadline.closesWhenDue else { return }
        guard NIODeadline.now() >= due else {
            arm(at: due, context: context)
            return
        }
        metrics.connectionTimedOut(phase: deadline.phase)
        context.close(promise: nil)
    }

    private func disarm() {
        timer?.task.cancel()
        timer = nil
        due = nil
    }
}

/// Closes a TLS connection whose handshake does not finish within the header timeout, before any HTTP handler
/// (added only once ALPN has chosen a protocol) can watch it; then leaves the pipeline.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: Duration
    private let metrics: ServerMetrics
    private var timer: Scheduled<Void>?

    init(timeout: Duration, metrics: ServerMetrics) {
        self.timeout = timeout
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let metrics = metrics
        timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            metrics.connectionTimedOut(phase: .head)
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            timer?.cancel()
            timer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Counts the connections the process holds and refuses one past `maxConnections`.
final class ConnectionGate: Sendable {
    let maxConnections: Int
    private let metrics: ServerMetrics

    init(maxConnections: Int, metrics: ServerMetrics) {
        self.maxConnections = maxConnections
        self.metrics = metrics
    }

    /// Takes a place for a new connection; false, counted as a refusal, when all are taken.
    func admit() -> Bool {
        let now = metrics.openConnections.add(1, ordering: .relaxed).newValue
        guard now <= maxConnections else {
            metrics.openConnections.subtract(1, ordering: .relaxed)
            metrics.connectionRefused()
            return false
        }
        return true
    }

    func release() {
        metrics.openConnections.subtract(1, ordering: .relaxed)
    }
}

/// Wraps the server's child channel: refuses a connection past the cap by closing it at once, and for TLS closes
/// one whose handshake stalls. The request deadlines sit inside the HTTP pipeline (`RequestDeadlineHandler`).
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    struct Refused: Error {}

    let base: Base
    let gate: ConnectionGate
    /// The handshake deadline, for a TLS server; nil for plain HTTP.
    let handshakeTimeout: Duration?
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard gate.admit() else {
            // A failed initializer drops the connection without ending the server's accept loop; closing is ours.
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(Refused())
        }
        let gate = gate
        channel.closeFuture.whenComplete { _ in gate.release() }
        if let handshakeTimeout {
            do {
                try channel.pipeline.syncOperations.addHandler(HandshakeDeadlineHandler(timeout: handshakeTimeout, metrics: metrics))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// `base` with the connection cap, the TLS handshake deadline and the request deadlines of `limits`.
    static func guarded(
        limits: ConnectionLimits, metrics: ServerMetrics, tls: Bool,
        _ base: @escaping @Sendable (_ http1: HTTP1Channel.Configuration, @escaping HTTPChannelHandler.Responder) throws -> any ServerChildChannel
    ) -> (HTTPServerBuilder, ConnectionGate) {
        let gate = ConnectionGate(maxConnections: limits.maxConnections, metrics: metrics)
        // HTTP/1.1 connections and HTTP/2 streams both get a request-deadline handler after the codec; Hummingbird's
        // own idle timeout is left off, since it restarts on every body part and so never stops a trickled body.
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestDeadlineHandler(limits: limits, metrics: metrics)])
        let builder = HTTPServerBuilder { responder in
            func wrap(_ channel: some ServerChildChannel) -> any ServerChildChannel {
                GuardedChildChannel(base: channel, gate: gate, handshakeTimeout: tls ? limits.headerTimeout : nil, metrics: metrics)
            }
            return wrap(try base(http1, responder))
        }
        return (builder, gate)
    }
}
