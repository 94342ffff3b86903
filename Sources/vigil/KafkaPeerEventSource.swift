import Dispatch
import Synchronization
import VigilKafka
import VigilServer

/// The peer region's event stream on its Kafka (`peerStream`, docs/regions.md): the records the peer's nodes ship to
/// the topic, read by this region's nodes as one consumer group (`vigil-region-<region>`), so each record is folded
/// by one node of this region and a restarted node resumes from the group's committed offsets.
final class KafkaPeerEventSource: PeerEventSource {
    /// The topic the peer region ships its events to (the event stream's default topic).
    static let topic = "vigil.events"

    let consumer: KafkaConsumer
    /// The next offset of each partition handed out since the last commit.
    let handedOut = Mutex<[KafkaTopicPartition: Int64]>([:])

    /// Subscribes this region's consumer group to the peer's topic; it connects in the background, so a peer
    /// region that is down does not stop the node.
    /// - Parameters:
    ///   - url: `kafka://host:port[,host:port…]`.
    ///   - region: this node's region, naming its consumer group.
    init(url: String, region: String) throws {
        let servers = url.dropFirst("kafka://".count).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard url.hasPrefix("kafka://"), !servers.isEmpty, servers.allSatisfy(Self.isHostPort) else {
            throw CLIError("peerStream must be kafka://host:port[,host:port…]")
        }
        do {
            consumer = try KafkaConsumer(
                configuration: .init(bootstrapServers: servers, groupID: "vigil-region-" + region, clientID: "vigil-" + region)
            )
            try consumer.subscribe([Self.topic])
        } catch {
            throw CLIError("peerStream: \(error)")
        }
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, let port = Int(text[text.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }

    func next() async throws -> [[UInt8]] {
        var batch: [[UInt8]] = []
        var offsets: [KafkaTopicPartition: Int64] = [:]
        for event in try await consumer.poll(maxEvents: 500, timeout: .seconds(1)) {
            guard case .message(let message) = event else { continue }
            batch.append(message.value)
            offsets[message.topicPartition] = message.offset + 1
        }
        handedOut.withLock { $0.merge(offsets) { max($0, $1) } }
        return batch
    }

    func commit() async throws {
        let offsets = handedOut.withLock { $0 }
        guard !offsets.isEmpty else { return }
        let consumer = self.consumer
        // The commit waits for the group coordinator, blocking its thread: not one of the cooperative pool's.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                do {
                    try consumer.commit(offsets)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        handedOut.withLock { pending in
            for (partition, offset) in offsets where pending[partition] == offset { pending[partition] = nil }
        }
    }

    deinit { consumer.close() }
}
