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
}
