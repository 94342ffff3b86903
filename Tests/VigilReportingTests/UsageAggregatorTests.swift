import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilReporting

/// Hand-made events of two tenants over two days (the last of March and the first of April, so two billing months).
struct UsageAggregatorTests {
    static let march31 = UTCDay(parsing: "2026-03-31")!
    static let april1 = UTCDay(parsing: "2026-04-01")!

    static func at(_ day: UTCDay, second: Int64) -> Instant {
        Instant(epochMillis: day.daysSinceEpoch * 86_400_000 + second * 1000)
    }

    static func party(_ n: UInt64) -> TokenizedParty {
        TokenizedParty(account: Token(a: n, b: 0, c: 0, d: 0), sealedAccount: SealedValue(keyVersion: 1, bytes: [1, 2, 3]))
    }

    static func scored(
        _ tenant: String, _ id: String, _ day: UTCDay, second: Int64 = 60, perspective: Perspective = .sending,
        decision: Decision = .allow, rules: [String] = [], micros: Int
    ) -> LoggedEvent {
        let payment = TokenizedPayment(
            paymentId: id, perspective: perspective, type: .push, scheme: "FPS", amount: Money(minorUnits: 1000, currency: Currency(code: "GBP")!),
            createdAt: at(day, second: second), debtor: party(1), creditor: party(2)
        )
        let response = ScoreResponse(
            paymentId: id, scoreId: "sc_\(id)", score: 100, decision: decision, reasons: [],
            rules: rules.map { RuleFiring(name: $0, outcome: .review) }, duplicate: false, modelVersion: "m1", processingMicros: micros
        )
        return .scored(ScoredPaymentEvent(tenant: tenant, receivedAt: at(day, second: second), request: payment, response: response, features: []))
    }

    static func duplicate(_ tenant: String, _ id: String, _ day: UTCDay, second: Int64 = 120) -> LoggedEvent {
        .duplicateAnswered(DuplicateAnsweredEvent(tenant: tenant, paymentId: id, receivedAt: at(day, second: second), originalScoreId: "sc_\(id)"))
    }

    /// bank-a on 31 March: 10 payments (micros 10…100, shuffled), 7 sending and 3 receiving, 2 reviews by rule
    /// `large-amount`, one block by `new-payee` and `large-amount`, and 2 duplicates. bank-a on 1 April: one payment
    /// and a duplicate. bank-b on 1 April: 2 receiving payments and no duplicates; and a duplicate on 31 March only.
    static var events: [LoggedEvent] {
        var events: [LoggedEvent] = []
        let micros = [70, 10, 100, 40, 20, 90, 30, 60, 80, 50]
        for (i, value) in micros.enumerated() {
            let decision: Decision = i == 0 || i == 1 ? .review : i == 2 ? .block : .allow
            let rules = i < 2 ? ["large-amount"] : i == 2 ? ["new-payee", "large-amount"] : []
            events.append(scored(
                "bank-a", "a\(i)", march31, second: Int64(i), perspective: i < 7 ? .sending : .receiving,
                decision: decision, rules: rules, micros: value
            ))
        }
        events.append(duplicate("bank-a", "a0", march31))
        events.append(duplicate("bank-a", "a1", march31))
        events.append(scored("bank-a", "a10", april1, micros: 7))
        events.append(duplicate("bank-a", "a10", april1))
        events.append(scored("bank-b", "b0", april1, perspective: .receiving, micros: 300))
        events.append(scored("bank-b", "b1", april1, second: 86_399, perspective: .receiving, decision: .block, rules: ["mule"], micros: 200))
        events.append(duplicate("bank-b", "b-old", march31))
        // A challenger's shadow score: in the log, never counted (the payment was counted when scored).
        events.append(.shadow(ShadowScoreEvent(
            tenant: "bank-a", paymentId: "a0", scoreId: "00000000-0000-4000-8000-000000000000", receivedAt: at(march31, second: 0),
            modelVersion: "xgb-0000000000000001", score: 612, probability: 0.0231
        )))
        // Loaded daily-file records: in the log, never in the report (a tenant that only loads files has no row).
        events.append(.intake(IntakeEvent(
            tenant: "bank-a", fileId: "f1", row: 2, loadedAt: at(march31, second: 30),
            record: .directory(DirectoryEntry(code: InstitutionCode(type: .sortCode, value: "040004"), institution: "Bank", type: .emi, status: .active))
        )))
        events.append(.intake(IntakeEvent(
            tenant: "bank-c", fileId: "f2", row: 2, loadedAt: at(april1, second: 30),
            record: .status(PaymentStatusReport(paymentId: "c0", uetr: nil, status: .settled, reasonCode: nil, at: at(april1, second: 1)))
        )))
        // Run-time labels neither: they are not billed (a tenant that only reports fraud has no row).
        events.append(.label(LabelEvent(
            tenant: "bank-a", receivedAt: at(april1, second: 40), source: .api,
            record: .fraudReport(FraudReport(paymentId: "a10", uetr: nil, reportedAt: at(april1, second: 39), fraudType: .appScam))
        )))
        events.append(.label(LabelEvent(
            tenant: "bank-d", receivedAt: at(april1, second: 41), source: .pacs002,
            record: .outcome(PaymentStatusReport(paymentId: "d0", uetr: nil, status: .returned, reasonCode: "FRAD", at: at(april1, second: 2)))
        )))
        return events
    }

    static func report(from: UTCDay = march31, to: UTCDay = april1, tenant: String? = nil) -> UsageReport {
        var aggregator = UsageAggregator(from: from, to: to, tenant: tenant)
        for event in events { aggregator.add(event) }
        return aggregator.report()
    }

    @Test func countsEachTenantDay() throws {
        let report = Self.report()
        #expect(report.days.map { "\($0.tenant) \($0.day)" } == ["bank-a 2026-03-31", "bank-a 2026-04-01", "bank-b 2026-03-31", "bank-b 2026-04-01"])
        var a31 = TenantDayUsage(tenant: "bank-a", day: Self.march31)
        a31.scored = 10
        a31.sending = 7
        a31.receiving = 3
        a31.allow = 7
        a31.review = 2
        a31.block = 1
        a31.duplicates = 2
        a31.billableUnits = 10
        a31.ruleFirings = ["large-amount": 3, "new-payee": 1]
        // Nearest rank over 10 values: the 5th (50) and the 10th (100).
        a31.p50Micros = 50
        a31.p99Micros = 100
        #expect(report.days[0] == a31)

        var a1 = TenantDayUsage(tenant: "bank-a", day: Self.april1)
        a1.scored = 1
        a1.sending = 1
        a1.allow = 1
        a1.duplicates = 1
        a1.billableUnits = 1
        a1.p50Micros = 7
        a1.p99Micros = 7
        #expect(report.days[1] == a1)

        // A day with only a duplicate: nothing scored or billed, no processing time.
        var b31 = TenantDayUsage(tenant: "bank-b", day: Self.march31)
        b31.duplicates = 1
        #expect(report.days[2] == b31)

        var b1 = TenantDayUsage(tenant: "bank-b", day: Self.april1)
        b1.scored = 2
        b1.receiving = 2
        b1.allow = 1
        b1.block = 1
        b1.billableUnits = 2
        b1.ruleFirings = ["mule": 1]
        b1.p50Micros = 200
        b1.p99Micros = 300
        #expect(report.days[3] == b1)
    }

    @Test(arguments: [
        ([5], 50, 5), ([5], 99, 5), ([1, 2], 50, 1), ([1, 2], 99, 2), ([1, 2, 3], 50, 2),
        (Array(1...100), 50, 50), (Array(1...100), 99, 99), (Array(1...101), 99, 100), (Array(1...1000), 99, 990),
    ])
    func percentilesAreNearestRank(sorted: [Int], percent: Int, expected: Int) {
        #expect(UsageAggregator.nearestRank(sorted, percent: percent) == expected)
    }

    @Test func keepsToTheRangeAndTheTenant() throws {
        let april = Self.report(from: Self.april1, to: Self.april1)
        #expect(april.days.map(\.tenant) == ["bank-a", "bank-b"])
        #expect(april.days.allSatisfy { $0.day == Self.april1 })
        let bankB = Self.report(tenant: "bank-b")
        #expect(bankB.days.map(\.day) == [Self.march31, Self.april1])
        #expect(bankB.days.allSatisfy { $0.tenant == "bank-b" })
        let before = Self.report(from: UTCDay(parsing: "2026-01-01")!, to: UTCDay(parsing: "2026-03-30")!)
        #expect(before.days.isEmpty)
        #expect(Self.report(tenant: "bank-z").days.isEmpty)
    }

    @Test func sumsBillingMonths() {
        let months = Self.report().months
        #expect(months.map { "\($0.tenant) \($0.month) \($0.billableUnits) \($0.scored) \($0.duplicates)" } == [
            "bank-a 2026-03 10 10 2", "bank-a 2026-04 1 1 1", "bank-b 2026-03 0 0 1", "bank-b 2026-04 2 2 0",
        ])
    }

    @Test func readsASourceThroughTheProtocol() async throws {
        struct Recorded: ReportEventSource {
            let payloads: [[UInt8]]
            func forEachEvent(_ body: (LoggedEvent) throws -> Void) async throws {
                for payload in payloads { try body(try EventCoding.decodeRecord(payload)) }
            }
        }
        // Binary records and JSON ones (a log written before binary records, then appended to) count alike.
        let payloads = Self.events.enumerated().map { index, event -> [UInt8] in
            switch event {
            case .scored(let scored): index % 2 == 0 ? EventCoding.record(scored) : EventCoding.encode(scored)
            case .duplicateAnswered(let answered): index % 2 == 0 ? EventCoding.record(answered) : EventCoding.encode(answered)
            case .intake(let intake): index % 2 == 0 ? EventCoding.record(intake) : EventCoding.encode(intake)
            case .shadow(let shadow): index % 2 == 0 ? EventCoding.record(shadow) : EventCoding.encode(shadow)
            case .label(let label): index % 2 == 0 ? EventCoding.record(label) : EventCoding.encode(label)
            }
        }
        var aggregator = UsageAggregator(from: Self.march31, to: Self.april1)
        try await aggregator.add(from: Recorded(payloads: payloads))
        #expect(aggregator.report() == Self.report())
    }

    /// Once retention has deleted the oldest segments the log starts above sequence 0: the report reads what is left.
    @Test func readsALogWhoseOldestSegmentsRetentionDeleted() async throws {
        let directory = NSTemporaryDirectory() + "vigil-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let payloads = Self.events.map { event -> [UInt8] in
            switch event {
            case .scored(let scored): EventCoding.encode(scored)
            case .duplicateAnswered(let answered): EventCoding.encode(answered)
            case .intake(let intake): EventCoding.encode(intake)
            case .shadow(let shadow): EventCoding.encode(shadow)
            case .label(let label): EventCoding.encode(label)
            }
        }
        // Segments of three records each, so there are several to delete.
        let perSegment = (payloads.map(\.count).max()! + 8) * 3
        let small = try FileEventLog(directory: directory, segmentBytes: perSegment, maxRecordBytes: 1 << 16)
        for payload in payloads { _ = try await small.append(payload) }
        let closed = try small.closedSegments()
        #expect(closed.count >= 3)
        let keepFrom = closed[1].endSequence
        #expect(try small.removeSegments(endingAtOrBelow: keepFrom) == 2)
        await small.shutdown()

        var fromLog = UsageAggregator(from: Self.march31, to: Self.april1)
        try await fromLog.add(from: EventLogDirectorySource(directory: directory))
        var expected = UsageAggregator(from: Self.march31, to: Self.april1)
        for event in Self.events.dropFirst(Int(keepFrom)) { expected.add(event) }
        #expect(fromLog.report() == expected.report())
        #expect(keepFrom > 0)
    }
}
