import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilEngine
import VigilServer

/// The shipper with the in-process stream: every logged record reaches the stream with a stable key, through an
/// outage, and again from the durable position after a restart.
@Suite(.timeLimit(.minutes(2)))
struct EventShipperTests {
    /// Scores one payment and returns the HTTP status.
    @discardableResult
    static func score(_ client: any TestClientProtocol, _ key: String, id: String, amount: String = "250.00") async throws -> HTTPResponse.Status {
        try await client.execute(
            uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(id: id, amount: amount))
        ) { $0.status }
    }

    /// Waits (bounded: 10 s in 10 ms steps) until `condition` holds.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    static func metric(_ client: any TestClientProtocol, _ name: String) async throws -> Double? {
        let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func decoded(_ message: StreamMessage) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(message.value))) as? [String: Any] ?? [:]
    }

    @Test("ships every record, retries included, keyed tenant/paymentId, with schema and sequence, and no plaintext")
    func shipsEveryRecord() async throws {
        let stream = InMemoryEventStream()
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir, stream: stream) { client, key in
            for index in 0..<5 { let scored = try await Self.score(client, key, id: "ship-\(index)") == .ok; #expect(scored) }
            let retried = try await Self.score(client, key, id: "ship-0") == .ok  // an exact retry: a duplicateAnswered record
            #expect(retried)
            let allShipped = try await Self.eventually { stream.messages.count == 6 }
            #expect(allShipped)
            let noLag = try await Self.eventually { try await Self.metric(client, "vigil_stream_lag_events") == 0 }
            #expect(noLag)
            let countedShipped = try await Self.metric(client, "vigil_stream_shipped_events_total") == 6
            #expect(countedShipped)
        }
        let messages = stream.messages
        let values = messages.map(Self.decoded)
        #expect(values.map { $0["sequence"] as? Int } == Array(0..<6))
        #expect(values.allSatisfy { $0["schema"] as? String == "vigil.event.v1" })
        #expect(values.last?["kind"] as? String == "duplicateAnswered")
        let tenant = try #require(values.first?["tenant"] as? String)
        #expect(messages.map { String(decoding: $0.key, as: UTF8.self) } == (0..<5).map { "\(tenant)/ship-\($0)" } + ["\(tenant)/ship-0"])
        let everything = messages.map { String(decoding: $0.key + $0.value, as: UTF8.self) }.joined()
        for canary in ["Alice Example", "Bob Payee", "12345678", "GB82WEST12345698765432", "device-1", "198.51.100.7", "invoice 7"] {
            #expect(!everything.contains(canary), "plaintext \(canary) reached the stream")
        }
        let position = try String(contentsOfFile: dir + "/stream-position", encoding: .utf8)
        #expect(position == "vigil-stream-position 1\n6\n")
    }

    @Test("during an outage scoring goes on and the lag grows; afterwards the shipper catches up")
    func outageThenCatchUp() async throws {
        let stream = InMemoryEventStream()
        try await withVigil(dataDirectory: temporaryDataDirectory(), stream: stream) { client, key in
            try await Self.score(client, key, id: "before")
            let firstShipped = try await Self.eventually { stream.messages.count == 1 }
            #expect(firstShipped)
            stream.setAvailable(false)
            for index in 0..<4 { let scoredDuringOutage = try await Self.score(client, key, id: "during-\(index)") == .ok; #expect(scoredDuringOutage) }
            let sendsFailed = try await Self.eventually { try await Self.metric(client, "vigil_stream_send_failures_total") ?? 0 >= 1 }
            #expect(sendsFailed)
            let lagGrew = try await Self.metric(client, "vigil_stream_lag_events") == 4
            #expect(lagGrew)
            #expect(stream.messages.count == 1)
            stream.setAvailable(true)
            let caughtUp = try await Self.eventually { try await Self.metric(client, "vigil_stream_lag_events") == 0 }
            #expect(caughtUp)
        }
        #expect(stream.messages.map { String(decoding: $0.key, as: UTF8.self).split(separator: "/").last.map(String.init) }
            == ["before", "during-0", "during-1", "during-2", "during-3"])
    }

    @Test("after a restart it ships from the durable position: what was not recorded as shipped is sent again")
    func resendsFromTheDurablePosition() async throws {
        let dir = temporaryDataDirectory()
        let first = InMemoryEventStream()
        try await withVigil(dataDirectory: dir, stream: first) { client, key in
            for index in 0..<6 { try await Self.score(client, key, id: "p\(index)") }
            let allShipped = try await Self.eventually { first.messages.count == 6 }
            #expect(allShipped)
        }
        // As after a crash between delivering records 4 and 5 and storing the position.
        try "vigil-stream-position 1\n4\n".write(toFile: dir + "/stream-position", atomically: true, encoding: .utf8)
        let second = InMemoryEventStream()
        try await withVigil(dataDirectory: dir, stream: second) { client, key in
            try await Self.score(client, key, id: "p6")
            let resent = try await Self.eventually { second.messages.count == 3 }
            #expect(resent)
        }
        #expect(second.messages.map { Self.decoded($0)["sequence"] as? Int } == [4, 5, 6])
        #expect(second.messages.prefix(2) == first.messages.suffix(2))
    }

    @Test("a damaged position file, or one ahead of the log, stops the start with what to do")
    func refusesABadPosition() async throws {
        for (content, expected) in [("garbage\n", "remove it to ship the whole event log again"), ("vigil-stream-position 1\n99\n", "belongs to another log")] {
            let dir = temporaryDataDirectory()
            try content.write(toFile: dir + "/stream-position", atomically: true, encoding: .utf8)
            let error = await #expect(throws: StartupError.self) {
                try await withVigil(dataDirectory: dir, stream: InMemoryEventStream()) { _, _ in }
            }
            #expect(error?.description.contains(expected) == true)
        }
    }

    @Test("a stream URL must be kafka:// with a host and port for every broker; the message never echoes it")
    func parsesStreamURLs() throws {
        #expect(try EventStreamURL(parsing: "kafka://127.0.0.1:9092,broker-2:19092", from: "--stream").brokers == ["127.0.0.1:9092", "broker-2:19092"])
        for bad in ["http://h:1", "kafka://", "kafka://secret-host", "kafka://h:0", "kafka://h:1,", "kafka://u:p@h:1", "kafka://h:1/x"] {
            let error = #expect(throws: VigilConfiguration.Invalid.self) { try EventStreamURL(parsing: bad, from: "--stream") }
            #expect(error?.description.hasPrefix("--stream must be kafka://") == true)
            #expect(error?.description.contains("secret") == false)
        }
        var configuration = VigilConfiguration()
        try configuration.applyEnvironment(["VIGIL_STREAM": "kafka://h:1", "VIGIL_STREAM_TOPIC": "events.a"])
        #expect(configuration.stream == "kafka://h:1" && configuration.streamTopic == "events.a")
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment(["VIGIL_STREAM_TOPIC": "bad topic"]) }
    }

    @Test("a record of a tenant whose data may not leave the region is resident, for the topic beside the shared one")
    func residentRecords() throws {
        let record = EventCoding.record(
            DuplicateAnsweredEvent(tenant: "bank-a", paymentId: "p-1", receivedAt: Instant(epochMillis: 1_796_000_000_000), originalScoreId: "s-1")
        )
        #expect(try StreamMessage(sequence: 0, record: record).resident == false)
        #expect(try StreamMessage(sequence: 0, record: record, leavesRegion: { $0 != "bank-a" }).resident == true)
        #expect(try StreamMessage(sequence: 0, record: record, leavesRegion: { $0 != "bank-b" }).resident == false)
        #expect(StreamMessage.residentTopic(of: "vigil.events") == "vigil.events.resident")
    }

    @Test("an intake record ships keyed tenant/intake/fileId, its export JSON after schema and sequence; resident like any record")
    func intakeRecords() throws {
        let event = IntakeEvent(
            tenant: "bank-a", fileId: "ab12", row: 7, loadedAt: Instant(epochMillis: 1_796_000_000_000),
            record: .accountLink(AccountLink(account: Token(a: 1, b: 2, c: 3, d: 4), customer: Token(a: 5, b: 6, c: 7, d: 8)))
        )
        let message = try StreamMessage(sequence: 41, record: EventCoding.record(event))
        #expect(String(decoding: message.key, as: UTF8.self) == "bank-a/intake/ab12")
        let value = String(decoding: message.value, as: UTF8.self)
        #expect(value.hasPrefix(#"{"schema":"vigil.event.v1","sequence":41,"fileId":"ab12","kind":"intake","#))
        #expect(try EventCoding.decodeRecord(message.value) == .intake(event))
        #expect(try StreamMessage(sequence: 41, record: EventCoding.record(event), leavesRegion: { _ in false }).resident)
    }

    @Test("a shadow record ships keyed tenant/paymentId, next to its scored event, its export JSON after schema and sequence")
    func shadowRecords() throws {
        let shadow = ShadowScoreEvent(
            tenant: "bank-a", paymentId: "p-9", scoreId: "0f0e0d0c-0b0a-4900-8800-010203040506", receivedAt: Instant(epochMillis: 1_796_000_000_000),
            modelVersion: "xgb-00000000000000aa", score: 512, probability: 0.0132
        )
        let message = try StreamMessage(sequence: 42, record: EventCoding.record(shadow))
        #expect(String(decoding: message.key, as: UTF8.self) == "bank-a/p-9")
        #expect(String(decoding: message.value, as: UTF8.self).hasPrefix(#"{"schema":"vigil.event.v1","sequence":42,"kind":"shadow","#))
        #expect(try EventCoding.decodeRecord(message.value) == .shadow(shadow))
        #expect(try StreamMessage(sequence: 42, record: EventCoding.record(shadow), leavesRegion: { _ in false }).resident)
    }

    @Test("a label ships keyed tenant/label/paymentId (the UETR without one), its export JSON after schema and sequence")
    func labelRecords() throws {
        let report = FraudReport(paymentId: "p-9", uetr: nil, reportedAt: Instant(epochMillis: 1_796_000_000_000), fraudType: .mule)
        let event = LabelEvent(tenant: "bank-a", receivedAt: Instant(epochMillis: 1_796_000_001_000), source: .api, record: .fraudReport(report))
        let message = try StreamMessage(sequence: 42, record: EventCoding.record(event))
        #expect(String(decoding: message.key, as: UTF8.self) == "bank-a/label/p-9")
        #expect(String(decoding: message.value, as: UTF8.self).hasPrefix(#"{"schema":"vigil.event.v1","sequence":42,"kind":"label","#))
        #expect(try EventCoding.decodeRecord(message.value) == .label(event))
        let outcome = PaymentStatusReport(
            paymentId: nil, uetr: "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", status: .recalled, reasonCode: "FRAD", at: Instant(epochMillis: 1_796_000_000_000)
        )
        let byUETR = LabelEvent(tenant: "bank-a", receivedAt: Instant(epochMillis: 1_796_000_001_000), source: .pacs002, record: .outcome(outcome))
        #expect(String(decoding: try StreamMessage(sequence: 43, record: EventCoding.record(byUETR)).key, as: UTF8.self) == "bank-a/label/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        #expect(try StreamMessage(sequence: 43, record: EventCoding.record(byUETR), leavesRegion: { _ in false }).resident)
    }
}
