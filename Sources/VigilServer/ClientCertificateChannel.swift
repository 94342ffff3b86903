import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import NIOTLS

extension ClientCertificate {
    /// The verified client certificate of the connection the current task serves. `ClientCertificateChannel` binds
    /// it around each connection's handling; HTTP/2 streams, handled in child tasks, inherit it. Nil when the
    /// server does not ask for client certificates.
    @TaskLocal package static var ofConnection: ClientCertificate?
}

/// HTTP/2 and HTTP/1.1 over TLS, plus the client certificate: read once per connection when the handshake
/// completes, then bound as `ClientCertificate.ofConnection` while the connection is served, so a request reads
/// it without a trip to the event loop.
struct ClientCertificateChannel: HTTPChannelHandler {
    struct Value: ServerChildChannelValue {
        let base: HTTP2UpgradeChannel.Value
        /// The DER certificate the peer presented, once the handshake is over; nil if it failed.
        let certificate: EventLoopFuture<[UInt8]?>
        var channel: any Channel { base.channel }
    }

    let base: HTTP2UpgradeChannel

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // After the TLS handler, so that its handshake event passes the capture before ALPN reshapes the pipeline.
            let promise = channel.eventLoop.makePromise(of: [UInt8]?.self)
            let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            try channel.pipeline.syncOperations.addHandler(PeerCertificateCapture(promise: promise), position: .after(tls))
            return Value(base: value, certificate: promise.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        let der = (try? await value.certificate.get()) ?? nil
        let certificate = der.flatMap(ClientCertificate.init(der:))
        if der != nil, certificate == nil {
            // BoringSSL verified it, so this is a certificate shape the reader does not know; refuse rather than guess.
            logger.error("Closed a connection: its verified client certificate could not be read")
            try? await value.channel.close()
            return
        }
        await ClientCertificate.$ofConnection.withValue(certificate) {
            await base.handle(value: value.base, logger: logger)
        }
    }
}

/// Hands on the peer's certificate when the TLS handshake completes, then leaves the pipeline, so reads after the
/// handshake do not pass through it.
final class PeerCertificateCapture: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<[UInt8]?>
    private var done = false

    init(promise: EventLoopPromise<[UInt8]?>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !done, let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
            finish(certificate.flatMap { try? $0.toDERBytes() })
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The connection closed before the handshake completed.
        finish(nil)
    }

    private func finish(_ der: [UInt8]?) {
        guard !done else { return }
        done = true
        promise.succeed(der)
    }
}
