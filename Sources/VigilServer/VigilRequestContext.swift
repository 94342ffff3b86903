public import Hummingbird
public import NIOCore

/// Per-request facts the security edge needs beyond the request itself: who is on the other end of the
/// connection. Built by Hummingbird from each connection's channel (for HTTP/2, the stream's channel).
public struct VigilRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's channel, for what only it knows (the peer's TLS certificate).
    public let channel: any Channel
    /// The peer's address; nil when a test drives the router without a socket.
    public let remoteAddress: SocketAddress?
    /// The client certificate the connection presented at its TLS handshake, verified against `--client-ca`; nil
    /// without mutual TLS. Read once per connection (`ClientCertificateChannel`), so asking costs a task-local
    /// lookup, and nothing when not asked.
    public var clientCertificate: ClientCertificate? { ClientCertificate.ofConnection }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.remoteAddress = source.channel.remoteAddress
    }
}
