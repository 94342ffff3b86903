import NIOCore
import NIOPosix
import Synchronization
import Testing
import VigilRedis

/// A loopback TCP server that answers the client's first command (its `PING` handshake) with `PONG`, then
/// reads everything and answers nothing: a Redis that hangs.
struct HandshakeOnlyServer {
    final class AnswerFirstOnly: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var answered = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "+PONG\r\n")), promise: nil)
        }
    }

    static let shortTimeouts = RedisConfiguration(commandTimeout: .milliseconds(300), connectTimeout: .milliseconds(300))

    final class Accepted: Sendable {
        let channels = Mutex<[any Channel]>([])
    }

    let listener: any Channel
    let accepted: Accepted
    let url: RedisURL

    static func start() async throws -> HandshakeOnlyServer {
        let accepted = Accepted()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.channels.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AnswerFirstOnly()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = try RedisURL("redis://127.0.0.1:\(try #require(listener.localAddress?.port))")
        return HandshakeOnlyServer(listener: listener, accepted: accepted, url: url)
    }

    /// Closes the port and every accepted connection.
    func stop() async throws {
        try await listener.close()
        for channel in accepted.channels.withLock({ $0 }) { try? await channel.close() }
    }
}
