import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures

/// Which reports put a creditor account on the consortium list that `creditor.reported_fraud_*` read.
struct ConsortiumListTests {
    static func report(_ id: String, _ type: FraudType, creditor: Token) -> IntakeEvent {
        IntakeEvent(
            tenant: "bank-a", fileId: "f", row: 2, loadedAt: Instant(epochMillis: 0),
            record: .fraudReport(FraudReport(paymentId: id, uetr: nil, reportedAt: Instant(epochMillis: 0), fraudType: type, creditorAccount: creditor))
        )
    }

    @Test func aFirstPartyReportLabelsThePaymentButDoesNotListItsPayee() async throws {
        let store = InMemoryReferenceStore()
        let payee = token(7)
        let query = ReferenceQuery(tenant: "bank-b", debtor: token(1), creditor: payee, debtorInstitution: nil, creditorInstitution: nil)
        try await Self.report("p-1", .firstParty, creditor: payee).applyReference(to: store)
        #expect(store.facts(query).creditorReports.isEmpty)
        for (id, type) in [("p-2", FraudType.appScam), ("p-3", .mule), ("p-4", .accountTakeover), ("p-5", .other)] {
            try await Self.report(id, type, creditor: payee).applyReference(to: store)
        }
        #expect(store.facts(query).creditorReports.count == 4)
    }

    /// A report loaded after it was made is known from the load, and keeps the date it was made, which the features'
    /// ages run from (as in an offline replay, where it is known when made).
    @Test func aReportLoadedLateKeepsWhenItWasMade() async throws {
        let store = InMemoryReferenceStore()
        let payee = token(8)
        let event = IntakeEvent(
            tenant: "bank-a", fileId: "f", row: 2, loadedAt: Instant(epochMillis: 9_000),
            record: .fraudReport(FraudReport(paymentId: "p-9", uetr: nil, reportedAt: Instant(epochMillis: 4_000), fraudType: .appScam, creditorAccount: payee))
        )
        try await event.applyReference(to: store)
        let query = ReferenceQuery(tenant: "bank-b", debtor: token(1), creditor: payee, debtorInstitution: nil, creditorInstitution: nil)
        #expect(store.facts(query).creditorReports == [ReportTimes(knownAt: 9_000, reportedAt: 4_000)])
    }
}

/// A run-time label reaches the consortium list through the same function as the daily-file row that says the same.
struct LabelReferenceTests {
    static let creditor = token(9)
    static let query = ReferenceQuery(tenant: "bank-b", debtor: token(1), creditor: creditor, debtorInstitution: nil, creditorInstitution: nil)

    static func label(_ record: LabelRecord, receivedAt millis: Int64 = 5_000) -> LabelEvent {
        LabelEvent(tenant: "bank-a", receivedAt: Instant(epochMillis: millis), source: .api, record: record)
    }

    static func report(_ id: String, _ type: FraudType = .appScam, reportedAt millis: Int64 = 1_000) -> FraudReport {
        FraudReport(paymentId: id, uetr: nil, reportedAt: Instant(epochMillis: millis), fraudType: type, creditorAccount: creditor)
    }

    @Test func aReportLabelListsItsCreditorKnownNoEarlierThanItArrived() async throws {
        let store = InMemoryReferenceStore()
        try await Self.label(.fraudReport(Self.report("p-1"))).applyReference(to: store)
        // Reported at 1 s, received at 5 s: a replay never sees it before the service could have.
        #expect(store.facts(Self.query).creditorReports == [ReportTimes(knownAt: 5_000, reportedAt: 1_000)])
    }

    @Test func aLabelAndTheSameFileRowCountOnce() async throws {
        let store = InMemoryReferenceStore()
        try await Self.label(.fraudReport(Self.report("p-1"))).applyReference(to: store)
        try await Self.label(.fraudReport(Self.report("p-1"))).applyReference(to: store)
        try await IntakeEvent(
            tenant: "bank-a", fileId: "f", row: 2, loadedAt: Instant(epochMillis: 9_000), record: .fraudReport(Self.report("p-1"))
        ).applyReference(to: store)
        #expect(store.facts(Self.query).creditorReports.count == 1)
    }

    @Test func outcomesListOnlyAReturnOrRecallForFraud() async throws {
        let store = InMemoryReferenceStore()
        for (id, status, reason) in [("p-1", PaymentFinalStatus.settled, nil), ("p-2", .returned, "AC04"), ("p-3", .rejected, "FRAD")] as [(String, PaymentFinalStatus, String?)] {
            let outcome = PaymentStatusReport(paymentId: id, uetr: nil, status: status, reasonCode: reason, at: Instant(epochMillis: 1_000), creditorAccount: Self.creditor)
            try await Self.label(.outcome(outcome)).applyReference(to: store)
        }
        #expect(store.facts(Self.query).creditorReports.isEmpty)
        let fraud = PaymentStatusReport(paymentId: "p-4", uetr: nil, status: .recalled, reasonCode: "FRAD", at: Instant(epochMillis: 1_000), creditorAccount: Self.creditor)
        try await Self.label(.outcome(fraud)).applyReference(to: store)
        #expect(store.facts(Self.query).creditorReports.count == 1)
    }

    @Test func aFirstPartyLabelDoesNotListItsPayee() async throws {
        let store = InMemoryReferenceStore()
        try await Self.label(.fraudReport(Self.report("p-1", .firstParty))).applyReference(to: store)
        #expect(store.facts(Self.query).creditorReports.isEmpty)
    }

    /// Recovery applies a logged label as the live path did, and nothing else: no payment, no answer.
    @Test func recoveryAppliesALoggedLabel() async throws {
        let reference = InMemoryReferenceStore()
        let engine = ScoringEngine(
            store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: ScoringEngineTests.model, duplicates: DuplicateIndex(), reference: reference
        )
        let record = EventCoding.record(Self.label(.fraudReport(Self.report("p-1"))))
        let replayed = try await engine.replay(record, nowMillis: 10_000)
        #expect(replayed == nil)
        #expect(reference.facts(Self.query).creditorReports == [ReportTimes(knownAt: 5_000, reportedAt: 1_000)])
    }
}
