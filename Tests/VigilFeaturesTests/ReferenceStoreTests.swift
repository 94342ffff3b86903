import Testing
import VigilDomain
import VigilFeatures
import VigilStateTesting

/// One suite for every ``ReferenceStore``: the in-process one and the Valkey/Redis one (single server and cluster).
struct ReferenceStoreTests {
    static func at(_ millis: Int64) -> Instant { Instant(epochMillis: 1_795_000_000_000 + millis) }

    static func query(tenant: String = "bank-a", debtor: UInt64 = 1, creditor: UInt64 = 2, debtorCode: String? = nil, creditorCode: String? = nil)
        -> ReferenceQuery
    {
        ReferenceQuery(
            tenant: tenant, debtor: token(debtor), creditor: token(creditor),
            debtorInstitution: debtorCode.map { InstitutionCode(type: .sortCode, value: $0) },
            creditorInstitution: creditorCode.map { InstitutionCode(type: .bic, value: $0) }
        )
    }

    static func times(known: Int64, reported: Int64? = nil) -> ReportTimes {
        ReportTimes(knownAt: at(known).epochMillis, reportedAt: at(reported ?? known).epochMillis)
    }

    @Test(arguments: StateStoreKind.allCases)
    func aReportCountsOnceAndTheNewestAreKept(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        #expect(try await store.facts(Self.query()) == .none)
        try await store.addReport(creditor: token(2), report: 7, reportedAt: Self.at(4_000), knownAt: Self.at(5_000))
        try await store.addReport(creditor: token(2), report: 7, reportedAt: Self.at(4_000), knownAt: Self.at(5_000))
        try await store.addReport(creditor: token(2), report: 8, reportedAt: Self.at(1_000), knownAt: Self.at(1_000))
        #expect(try await store.facts(Self.query()).creditorReports == [Self.times(known: 1_000), Self.times(known: 5_000, reported: 4_000)])
        // Another account's reports are its own.
        #expect(try await store.facts(Self.query(creditor: 3)).creditorReports.isEmpty)
        let bound = InMemoryReferenceStore.reportsPerAccount
        for report in 0..<UInt64(bound + 6) {
            let when = Self.at(Int64(report) * 1000)
            try await store.addReport(creditor: token(4), report: 100 + report, reportedAt: when, knownAt: when)
        }
        let kept = try await store.facts(Self.query(creditor: 4)).creditorReports
        #expect(kept.count == bound)
        #expect(kept.first == Self.times(known: 6_000))
        #expect(kept.last == Self.times(known: Int64(bound + 5) * 1000))
    }

    /// A fraud report and a `FRAD` return of the same payment are one report, whichever date each gives: the entry
    /// known first stands, in both stores.
    @Test(arguments: StateStoreKind.allCases)
    func theSameReportWithAnotherDateKeepsTheEntryKnownFirst(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        try await store.addReport(creditor: token(2), report: 9, reportedAt: Self.at(2_000), knownAt: Self.at(3_000))
        try await store.addReport(creditor: token(2), report: 9, reportedAt: Self.at(2_500), knownAt: Self.at(4_000))
        #expect(try await store.facts(Self.query()).creditorReports == [Self.times(known: 3_000, reported: 2_000)])
        try await store.addReport(creditor: token(2), report: 9, reportedAt: Self.at(1_000), knownAt: Self.at(1_500))
        #expect(try await store.facts(Self.query()).creditorReports == [Self.times(known: 1_500, reported: 1_000)])
    }

    @Test(arguments: StateStoreKind.allCases)
    func theDirectoryUpsertsByCodePerTenant(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        let sortCode = InstitutionCode(type: .sortCode, value: "040004")
        let bic = InstitutionCode(type: .bic, value: "REVOGB21")
        try await store.upsert(DirectoryEntry(code: sortCode, institution: "Bank | One", type: .bank, status: .active), tenant: "bank-a")
        try await store.upsert(DirectoryEntry(code: bic, institution: "E-money", type: .emi, status: .active), tenant: "bank-a")
        var facts = try await store.facts(Self.query(debtorCode: "040004", creditorCode: "REVOGB21"))
        #expect(facts.debtorInstitution == .bank)
        #expect(facts.creditorInstitution == .emi)
        try await store.upsert(DirectoryEntry(code: sortCode, institution: "Renamed", type: .cryptoExchange, status: .closed), tenant: "bank-a")
        facts = try await store.facts(Self.query(debtorCode: "040004", creditorCode: "REVOGB21"))
        #expect(facts.debtorInstitution == .cryptoExchange)
        // The same code as another type is another row; another tenant has its own directory.
        #expect(try await store.facts(Self.query(debtorCode: "REVOGB21")).debtorInstitution == nil)
        #expect(try await store.facts(Self.query(tenant: "bank-b", debtorCode: "040004")).debtorInstitution == nil)
    }

    @Test(arguments: StateStoreKind.allCases)
    func linksCountACustomersAccountsAndMove(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        let (alice, bob) = (token(900), token(901))
        try await store.link(AccountLink(account: token(1), customer: alice), tenant: "bank-a")
        try await store.link(AccountLink(account: token(1), customer: alice, card: token(77)), tenant: "bank-a")
        try await store.link(AccountLink(account: token(5), customer: alice), tenant: "bank-a")
        var facts = try await store.facts(Self.query())
        #expect(facts.customer == alice)
        #expect(facts.linkedAccounts == 2)
        // Relinked: alice keeps one account, bob has it.
        try await store.link(AccountLink(account: token(5), customer: bob), tenant: "bank-a")
        #expect(try await store.facts(Self.query()).linkedAccounts == 1)
        facts = try await store.facts(Self.query(debtor: 5))
        #expect(facts.customer == bob)
        #expect(facts.linkedAccounts == 1)
        #expect(try await store.facts(Self.query(tenant: "bank-b")).customer == nil)
        #expect(try await store.facts(Self.query(debtor: 6)).customer == nil)
    }

    @Test(arguments: StateStoreKind.allCases)
    func entitlementsAreReplacedWholeAndAbsentUntilLoaded(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        #expect(try await store.entitlements(tenant: "bank-a") == nil)
        let first = Entitlement(
            codeType: .sortCode, from: "040000", to: "040099", perspectives: [.sending], products: ["FPS", "SEPA_INST"],
            validFrom: Self.at(0), validTo: Self.at(86_400_000)
        )
        let second = Entitlement(
            codeType: .bic, from: "REVOGB21", to: "REVOGB21", perspectives: [.sending, .receiving], products: nil, validFrom: Self.at(0), validTo: nil
        )
        try await store.replaceEntitlements([first, second], tenant: "bank-a")
        #expect(try await store.entitlements(tenant: "bank-a") == [first, second])
        try await store.replaceEntitlements([second], tenant: "bank-a")
        #expect(try await store.entitlements(tenant: "bank-a") == [second])
        try await store.replaceEntitlements([], tenant: "bank-a")
        #expect(try await store.entitlements(tenant: "bank-a") == [])
        #expect(try await store.entitlements(tenant: "bank-b") == nil)
    }

    @Test(arguments: StateStoreKind.allCases)
    func aFilesProgressKeepsItsHighestRow(_ kind: StateStoreKind) async throws {
        let store = try await kind.referenceStore()
        #expect(try await store.loadedRow(fileId: "f1") == 0)
        try await store.recordLoaded(fileId: "f1", row: 40)
        try await store.recordLoaded(fileId: "f1", row: 12)
        try await store.recordLoaded(fileId: "f2", row: 3)
        #expect(try await store.loadedRow(fileId: "f1") == 40)
        #expect(try await store.loadedRow(fileId: "f2") == 3)
    }
}
