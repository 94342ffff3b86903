import Testing
import VigilDomain
import VigilEngine
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
