import NIOCore
import Synchronization

/// Which primary serves each of the 16384 slots, as `CLUSTER SLOTS` reported it.
struct SlotMap: Sendable {
    static let unassigned = UInt16.max
    var primaries: [RedisURL.Endpoint] = []
    var owner = [UInt16](repeating: SlotMap.unassigned, count: HashSlot.count)

    func primary(forSlot slot: Int) -> RedisURL.Endpoint? {
        let index = owner[slot]
        return index == Self.unassigned ? nil : primaries[Int(index)]
    }

    mutating func assign(slot: Int, to endpoint: RedisURL.Endpoint) {
        if let index = primaries.firstIndex(of: endpoint) {
            owner[slot] = UInt16(index)
        } else {
            primaries.append(endpoint)
            owner[slot] = UInt16(primaries.count - 1)
        }
    }

    /// Parses a `CLUSTER SLOTS` answer: `[[start, end, [host, port, id, …], replica…], …]`. An empty host means
    /// the node that answered (Redis reports it so when it does not know its own address).
    init(clusterSlots reply: RedisValue, answeredBy node: RedisURL.Endpoint) throws(RedisError) {
        guard let ranges = reply.array else { throw RedisError(code: .clusterMap, message: "CLUSTER SLOTS did not answer an array") }
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                let primary = fields[2].array, primary.count >= 2, let host = primary[0].string, let port = primary[1].int,
                0 <= start, start <= end, end < HashSlot.count
            else { throw RedisError(code: .clusterMap, message: "CLUSTER SLOTS answered an entry that is not a slot range") }
            let endpoint = RedisURL.Endpoint(host: host.isEmpty || host == "?" ? node.host : host, port: Int(port))
            for slot in Int(start)...Int(end) { assign(slot: slot, to: endpoint) }
        }
    }

    init() {}
}

/// Routes commands to the primary of their key's slot and follows `MOVED` and `ASK` redirects.
final class RedisCluster: Sendable {
    private struct State {
        var map = SlotMap()
        var pools: [RedisURL.Endpoint: RedisConnectionPool] = [:]
        var closed = false
    }

    let url: RedisURL
    private let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(State())
    /// How many redirects were followed, for tests and metrics.
    let redirects = Atomic<Int>(0)

    init(url: RedisURL, configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.url = url
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    func pool(for endpoint: RedisURL.Endpoint) throws(RedisError) -> RedisConnectionPool {
        try state.withLock { (state) throws(RedisError) in
            guard !state.closed else { throw RedisError(code: .poolClosed, message: "the Redis client is closed") }
            if let pool = state.pools[endpoint] { return pool }
            let pool = RedisConnectionPool(url: url, endpoint: endpoint, configuration: configuration, eventLoopGroup: eventLoopGroup)
            state.pools[endpoint] = pool
            return pool
        }
    }

    /// Reads the slot map from the first known node that answers: the current primaries, then the seeds.
    func refresh() async throws(RedisError) {
        let known = state.withLock { $0.map.primaries }
        var candidates = known
        for seed in url.endpoints where !candidates.contains(seed) { candidates.append(seed) }
        var lastError = RedisError(code: .clusterMap, message: "no cluster node is known")
        for node in candidates {
            do {
                let reply = try await pool(for: node).connection().send(["CLUSTER", "SLOTS"])
                let map = try SlotMap(clusterSlots: reply, answeredBy: node)
                state.withLock { $0.map = map }
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The slot map's primary for `key`, or a known node for a command without a key.
    private func route(_ key: RedisArgument?) throws(RedisError) -> RedisURL.Endpoint {
        let map = state.withLock { $0.map }
        guard let key else {
            guard let any = map.primaries.first ?? url.endpoints.first else {
                throw RedisError(code: .clusterMap, message: "no cluster node is known")
            }
            return any
        }
        let slot = HashSlot.slot(of: key.bytes.readableBytesView)
        guard let primary = map.primary(forSlot: slot) else {
            throw RedisError(code: .clusterMap, message: "slot \(slot) has no primary in the cluster's slot map")
        }
        return primary
    }

    /// Runs one command on its slot's primary, following redirects.
    /// - Returns: the answer; a server error other than a redirect is returned as ``RedisValue/error(_:)``.
    func execute(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        try await execute(command, first: nil)
    }

    /// Like ``execute(_:)``, but takes an answer already received from the slot's primary (from a pipeline).
    private func execute(_ command: RedisCommand, first: (RedisValue, RedisURL.Endpoint)?) async throws(RedisError) -> RedisValue {
        var target: RedisURL.Endpoint
        if let first {
            target = first.1
        } else {
            target = try route(command.key)
        }
        var asking = false
        var pendingReply = first?.0
        for _ in 0...configuration.maxRedirects {
            let reply: RedisValue
            if let pendingReply {
                reply = pendingReply
            } else {
                let connection = try await pool(for: target).connection()
                if asking {
                    reply = try await connection.pipeline([["ASKING"], command.arguments])[1]
                } else {
                    reply = try await connection.pipeline([command.arguments])[0]
                }
            }
            pendingReply = nil
            guard case .error(let message) = reply, let redirect = Redirect(message, from: target) else { return reply }
            redirects.add(1, ordering: .relaxed)
            target = redirect.endpoint
            switch redirect.kind {
            case .moved:
                asking = false
                // The map is stale: patch this slot now, then reread all of it so the next commands go straight.
                state.withLock { $0.map.assign(slot: redirect.slot, to: redirect.endpoint) }
                try? await refresh()
            case .ask:
                asking = true
            }
        }
        throw RedisError(code: .redirectLimit, message: "more than \(configuration.maxRedirects) MOVED/ASK redirects")
    }

    /// Sends the commands pipelined, one pipeline per primary, then follows any redirects one command at a time.
    func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisValue] {
        var groups: [RedisURL.Endpoint: [Int]] = [:]
        for (index, command) in commands.enumerated() {
            groups[try route(command.key), default: []].append(index)
        }
        var replies = [RedisValue](repeating: .bulkString(nil), count: commands.count)
        var answeredBy = [RedisURL.Endpoint?](repeating: nil, count: commands.count)
        for (endpoint, indices) in groups {
            let answers = try await pool(for: endpoint).connection().pipeline(indices.map { commands[$0].arguments })
            for (index, answer) in zip(indices, answers) {
                replies[index] = answer
                answeredBy[index] = endpoint
            }
        }
        for index in replies.indices {
            guard case .error(let message) = replies[index], let node = answeredBy[index], Redirect(message, from: node) != nil else { continue }
            replies[index] = try await execute(commands[index], first: (replies[index], node))
        }
        return replies
    }

    var openConnections: [RedisConnection] {
        state.withLock { Array($0.pools.values) }.flatMap(\.openConnections)
    }

    func close() async {
        let pools = state.withLock { state in
            state.closed = true
            return Array(state.pools.values)
        }
        for pool in pools { await pool.close() }
    }
}

/// A `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>` answer.
struct Redirect: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case moved, ask }
    var kind: Kind
    var slot: Int
    var endpoint: RedisURL.Endpoint

    init(kind: Kind, slot: Int, endpoint: RedisURL.Endpoint) {
        self.kind = kind
        self.slot = slot
        self.endpoint = endpoint
    }

    /// - Parameter node: the node that answered, whose host stands in for an empty one (`MOVED 1 :6380`).
    init?(_ message: String, from node: RedisURL.Endpoint) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<HashSlot.count).contains(slot),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        var host = String(parts[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.slot = slot
        self.endpoint = RedisURL.Endpoint(host: host.isEmpty ? node.host : host, port: port)
    }
}
