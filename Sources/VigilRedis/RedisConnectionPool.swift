import NIOCore
import Synchronization

/// Up to ``RedisConfiguration/maxConnectionsPerNode`` connections to one node, used in turn.
///
/// A slot whose connection has closed (killed by the server, timed out, network failure) is reconnected when a
/// command next needs it, so one dropped connection costs the commands in flight on it, never the ones after.
final class RedisConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var closed = false
    }

    let url: RedisURL
    let endpoint: RedisURL.Endpoint
    private let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let state: Mutex<State>

    init(url: RedisURL, endpoint: RedisURL.Endpoint, configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.url = url
        self.endpoint = endpoint
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.state = Mutex(State(slots: Array(repeating: .empty, count: configuration.maxConnectionsPerNode)))
    }

    /// The next connection in turn, opened or reopened if needed.
    func connection() async throws(RedisError) -> RedisConnection {
        let (future, index, opened) = try state.withLock { (state) throws(RedisError) -> (EventLoopFuture<RedisConnection>, Int, Bool) in
            guard !state.closed else { throw RedisError(code: .poolClosed, message: "the Redis client is closed") }
            let index = state.next
            state.next = (state.next + 1) % state.slots.count
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return (connection.channel.eventLoop.makeSucceededFuture(connection), index, false)
            case .connecting(let future):
                return (future, index, false)
            case .ready, .empty:
                let future = RedisConnection.makeConnection(
                    url: url, endpoint: endpoint, configuration: configuration, eventLoop: eventLoopGroup.next())
                state.slots[index] = .connecting(future)
                return (future, index, true)
            }
        }
        if opened {
            // Registered outside the lock: on an event-loop thread a completed future runs the callback at once.
            future.whenComplete { [self] result in
                let keep = self.state.withLock { state in
                    guard case .connecting(let current) = state.slots[index], current === future else { return true }
                    switch result {
                    case .success(let connection): state.slots[index] = state.closed ? .empty : .ready(connection)
                    case .failure: state.slots[index] = .empty
                    }
                    return !state.closed
                }
                if case .success(let connection) = result, !keep { connection.channel.close(promise: nil) }
            }
        }
        return try await RedisError.catching { try await future.get() }
    }

    /// The open connections, for tests.
    var openConnections: [RedisConnection] {
        state.withLock { state in
            state.slots.compactMap { slot in
                if case .ready(let connection) = slot, connection.isActive { return connection }
                return nil
            }
        }
    }

    /// Closes every connection; later commands fail with ``RedisError/Code/poolClosed``.
    func close() async {
        let slots = state.withLock { state in
            state.closed = true
            defer { state.slots = state.slots.map { _ in .empty } }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .ready(let connection): await connection.close()
            case .connecting(let future): if let connection = try? await future.get() { await connection.close() }
            case .empty: break
            }
        }
    }
}
