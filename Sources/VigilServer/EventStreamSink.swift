import Synchronization

/// One message for the event stream: a key that keeps one payment's records together and lets consumers de-duplicate,
/// and the record's JSON.
public struct StreamMessage: Sendable, Equatable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// Whether the record stays in this region: its tenant is pinned to regions that leave out the peer region, so it
    /// goes to the region-local topic (``residentTopic(of:)``), which the peer never reads (docs/regions.md).
    public var resident: Bool

    public init(key: [UInt8], value: [UInt8], resident: Bool = false) {
        self.key = key
        self.value = value
        self.resident = resident
    }

    /// The topic beside `topic` that holds the records of tenants whose data may not leave this region:
    /// `<topic>.resident`. A peer region reads only `topic`.
    public static func residentTopic(of topic: String) -> String {
        topic + ".resident"
    }
}

/// Somewhere the event log's records are shipped to: Kafka (`vigil serve --stream kafka://…`, the `VigilKafkaStream`
/// adapter, injected by the `vigil` executable) or ``InMemoryEventStream``.
///
/// VigilServer never imports an adapter; it gets one of these.
public protocol EventStreamSink: Sendable {
    /// Sends `messages` and returns once every one of them is durable in the stream. Messages with one key keep their
    /// order. A failed call may have written some of them: the caller sends the whole batch again (at least once).
    /// - Throws: why the stream did not take the batch (no broker, timeout); the message holds no key or value.
    func send(_ messages: [StreamMessage]) async throws

    /// What the stream is, for the start-up log line (brokers and topic, no credentials).
    var summary: String { get }

    /// Releases the connection. Sends after it fail.
    func close() async
}

/// An ``EventStreamSink`` in this process: keeps every message in memory, in order. For tests and a node without a
/// broker; it can be made to refuse sends, as a stream does in an outage.
public final class InMemoryEventStream: EventStreamSink {
    private struct State {
        var messages: [StreamMessage] = []
        var available = true
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    public var summary: String { "memory" }

    /// Every message sent so far, in order.
    public var messages: [StreamMessage] { state.withLock { $0.messages } }

    /// While false, sends fail as in an outage.
    public func setAvailable(_ available: Bool) {
        state.withLock { $0.available = available }
    }

    public func send(_ messages: [StreamMessage]) async throws {
        try state.withLock { state throws(StreamUnavailable) in
            guard !state.closed else { throw StreamUnavailable(reason: "the stream is closed") }
            guard state.available else { throw StreamUnavailable(reason: "the stream is unavailable") }
            state.messages.append(contentsOf: messages)
        }
    }

    public func close() async {
        state.withLock { $0.closed = true }
    }
}

/// Why ``InMemoryEventStream`` refused a send.
public struct StreamUnavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// A stream URL, `kafka://host:port,host:port,…`: the bootstrap brokers of a Kafka cluster.
public struct EventStreamURL: Sendable, Equatable {
    /// `host:port` of each bootstrap broker, in the order given.
    public var brokers: [String]

    /// Parses `text`, naming `source` (the flag, key or variable it came from) in the error.
    /// - Throws: ``VigilConfiguration/Invalid`` saying what is wrong, without echoing the text.
    public init(parsing text: String, from source: String) throws(VigilConfiguration.Invalid) {
        let scheme = "kafka://"
        let usage = "\(source) must be kafka://host:port or kafka://host:port,host:port,… (the Kafka bootstrap brokers)"
        guard text.hasPrefix(scheme) else { throw VigilConfiguration.Invalid(description: usage) }
        let list = text.dropFirst(scheme.count)
        guard !list.isEmpty, !list.contains("/"), !list.contains("@"), !list.contains("?") else {
            throw VigilConfiguration.Invalid(description: usage)
        }
        var brokers: [String] = []
        for broker in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = broker.lastIndex(of: ":"), let port = Int(broker[broker.index(after: colon)...]),
                (1...65535).contains(port), colon != broker.startIndex,
                broker[..<colon].unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
            else {
                throw VigilConfiguration.Invalid(description: "\(usage); every broker needs a host and a port from 1 to 65535")
            }
            brokers.append(String(broker))
        }
        self.brokers = brokers
    }

    /// Whether `topic` is a name Kafka accepts: 1–249 of `[A-Za-z0-9._-]`, not `.` or `..`.
    public static func isValidTopic(_ topic: String) -> Bool {
        (1...249).contains(topic.utf8.count) && topic != "." && topic != ".."
            && topic.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
