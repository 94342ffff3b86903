import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
@testable import VigilKafkaStream
import VigilReporting
import VigilServer

@testable import VigilKafka

/// A report read from the event stream's topic gives the same numbers as one read from the node's log.
@Suite("KafkaTopicSource: a report from the topic")
struct KafkaTopicSourceTests {
    static let day1 = UTCDay(parsing: "2026-03-31")!
    static let day2 = UTCDay(parsing: "2026-04-01")!

    static func at(_ day: UTCDay, second: Int64) -> Instant {
        Instant(epochMillis: day.daysSinceEpoch * 86_400_000 + second * 1000)
    }

    static func party(_ n: UInt64) -> TokenizedParty {
        TokenizedParty(account: Token(a: n, b: 0, c: 0, d: 0), sealedAccount: SealedValue(keyVersion: 1, bytes: [1, 2, 3]))
    }

    /// Two tenants over two days: payments with rules and decisions, and exact retries answered as duplicates.
    static var records: [[UInt8]] {
        var records: [[UInt8]] = []
        for index in 0..<24 {
            let tenant = index % 3 == 0 ? "bank-b" : "bank-a"
            let day = index < 14 ? day1 : day2
            let id = "p\(index)"
            let payment = TokenizedPayment(
                paymentId: id, perspective: index % 4 == 0 ? .receiving : .sending, type: .push, scheme: "FPS",
                amount: Money(minorUnits: Int64(100 * index + 1), currency: Currency(code: "GBP")!),
                createdAt: at(day, second: Int64(index)), debtor: party(1), creditor: party(UInt64(index))
            )
            let decision: Decision = index % 5 == 0 ? .review : index % 7 == 0 ? .block : .allow
            let response = ScoreResponse(
                paymentId: id, scoreId: "sc_\(id)", score: 10 * index, decision: decision, reasons: [],
                rules: decision == .allow ? [] : [RuleFiring(name: "rule-\(index % 2)", outcome: decision)], duplicate: false,
                modelVersion: "m1", processingMicros: 17 * index + 3
            )
            records.append(EventCoding.encode(ScoredPaymentEvent(
                tenant: tenant, receivedAt: at(day, second: Int64(index)), request: payment, response: response, features: [0.5, 2]
            )))
            if index % 4 == 1 {
                records.append(EventCoding.encode(DuplicateAnsweredEvent(
                    tenant: tenant, paymentId: id, receivedAt: at(day, second: Int64(index) + 30), originalScoreId: "sc_\(id)"
                )))
            }
        }
        return records
    }

    static func report(_ source: some ReportEventSource) async throws -> [String] {
        var aggregator = UsageAggregator(from: day1, to: day2, tenant: nil)
        try await aggregator.add(from: source)
        let report = aggregator.report()
        return ReportFormat.allCases.map { report.rendered($0) } + [report.monthlyCSV()]
    }

    @Test("identical numbers in every format from the log and from the topic, resent records counted once")
    func sameReportFromLogAndTopic() async throws {
        let directory = NSTemporaryDirectory() + "vigil-kafka-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try FileEventLog(directory: directory, segmentBytes: 1 << 20)
        let records = Self.records
        for record in records { _ = try await log.append(record) }
        await log.shutdown()

        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic("vigil.events", partitions: 3, replicationFactor: 1)
        let url = try EventStreamURL(parsing: "kafka://" + mock.bootstrapServers, from: "test")
        let sink = try KafkaEventStream(url: url, topic: "vigil.events")
        let messages = try records.enumerated().map { try StreamMessage(sequence: UInt64($0.offset), record: $0.element) }
        try await sink.send(messages)
        // A node killed after delivering a batch but before storing its position sends the batch again.
        try await sink.send(Array(messages[10..<20]))
        await sink.close()

        let fromLog = try await Self.report(EventLogDirectorySource(directory: directory))
        let fromTopic = try await Self.report(KafkaTopicSource(url: url, topic: "vigil.events"))
        #expect(fromTopic == fromLog)
        #expect(fromLog[0].contains("bank-a") && fromLog[0].contains("bank-b"))
    }

    @Test("a message of another schema is refused, naming where it is")
    func refusesAnotherSchema() throws {
        let message = KafkaMessage(
            topicPartition: KafkaTopicPartition(topic: "vigil.events", partition: 2), offset: 7, key: nil,
            value: Array(#"{"schema":"vigil.event.v9","sequence":0}"#.utf8)
        )
        let error = #expect(throws: ReportError.self) { try KafkaTopicSource.event(message) }
        #expect(error?.code == .unreadableRecord)
        #expect(error?.message.contains("message 7 of partition 2") == true)
    }
}
