/// When a connection must next show progress, by phase: the request head must arrive within `header`, its body
/// within `body` of the head, and after the last response the next request within `idle`. While the server is
/// working on a request, the client owes nothing and no deadline runs.
///
/// A pure state machine: `RequestDeadlineHandler` feeds it events and carries out the actions it returns, and tests
/// drive it without a channel.
struct RequestDeadline {
    enum Phase: Equatable {
        /// Waiting for a request's head on a new connection.
        case head
        /// The head arrived; waiting for the end of the body.
        case body
        /// The request is read; the server owes the response.
        case responding
        /// Every response is written; waiting for the next request.
        case idle
    }

    enum Action: Equatable {
        /// The client must show progress within this, counted from now; it replaces any earlier deadline.
        case schedule(Duration)
        /// No deadline until the next action.
        case cancel
        case none
    }

    let limits: ConnectionLimits
    private(set) var phase: Phase = .head
    /// Requests whose response has not been written to the end; HTTP/1.1 pipelining can make it more than one.
    private(set) var responsesOwed = 0

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// The connection is open: its first request head is due.
    mutating func connected() -> Action {
        phase = .head
        return .schedule(limits.headerTimeout)
    }

    mutating func receivedHead() -> Action {
        phase = .body
        responsesOwed += 1
        return .schedule(limits.bodyTimeout)
    }

    mutating func receivedEnd() -> Action {
        phase = .responding
        return .cancel
    }

    mutating func sentEnd() -> Action {
        responsesOwed = max(0, responsesOwed - 1)
        guard phase == .responding, responsesOwed == 0 else { return .none }
        phase = .idle
        return .schedule(limits.idleTimeout)
    }

    /// Whether a deadline that passes now closes the connection: not while the server owes the response.
    var closesWhenDue: Bool { phase != .responding }
}

/// How long a client may take over each part of a request, and how many connections one process holds.
public struct ConnectionLimits: Sendable, Equatable {
    public var headerTimeout: Duration
    public var bodyTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int

    public init(headerTimeout: Duration, bodyTimeout: Duration, idleTimeout: Duration, maxConnections: Int) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    public init(_ configuration: VigilConfiguration) {
        self.init(
            headerTimeout: .seconds(configuration.requestHeaderTimeoutSeconds), bodyTimeout: .seconds(configuration.requestBodyTimeoutSeconds),
            idleTimeout: .seconds(configuration.idleTimeoutSeconds), maxConnections: configuration.maxConnections
        )
    }
}
