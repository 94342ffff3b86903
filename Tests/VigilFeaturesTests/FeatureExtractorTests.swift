import Testing
import VigilDomain
import VigilFeatures
import VigilStateTesting

func token(_ n: UInt64) -> Token { Token(a: n &* 0x9E37_79B9_7F4A_7C15, b: n, c: 0, d: 0) }

func payment(
    _ id: String, from debtor: UInt64, to creditor: UInt64, amount: String = "100.00", at seconds: Int64,
    bank: String? = "BANKGB01", device: UInt64? = nil, offsetSeconds: Int32 = 0
) -> TokenizedPayment {
    let sealed = SealedValue(keyVersion: 1, bytes: [0])
    let gbp = Currency(code: "GBP")!
    return TokenizedPayment(
        paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "mobile",
        amount: try! Money.parse(amount, currency: gbp).get(),
        createdAt: Instant(epochMillis: (1_795_000_000 + seconds) * 1000, utcOffsetSeconds: offsetSeconds),
        debtor: TokenizedParty(account: token(debtor), sealedAccount: sealed, agent: bank),
        creditor: TokenizedParty(account: token(creditor), sealedAccount: sealed),
        confirmationOfPayee: .noMatch, device: device.map { token(1_000_000 + $0) }
    )
}

struct FeatureExtractorTests {
    /// Every behaviour below holds for each store (``StateStoreKind``): the same extractor code on the in-process
    /// store and on Valkey/Redis gives the same values.
    func run(_ payments: [TokenizedPayment], _ kind: StateStoreKind) async throws -> [[Double]] {
        try await run(payments, store: try await kind.featureStore())
    }

    func run<Store: FeatureStore>(_ payments: [TokenizedPayment], store: Store) async throws -> [[Double]] {
        let extractor = FeatureExtractor(store: store)
        var rows: [[Double]] = []
        for p in payments {
            var features: [Double] = []
            try await extractor.observe(p, into: &features)
            rows.append(features)
        }
        return rows
    }

    func value(_ row: [Double], _ feature: Feature) -> Double { row[feature.rawValue] }

    @Test func namesAreUniqueAndDescribed() {
        #expect(Set(Feature.allCases.map(\.name)).count == Feature.count)
        for feature in Feature.allCases {
            #expect(!feature.summary.isEmpty)
            #expect(Feature(name: feature.name) == feature)
        }
        #expect(Feature(name: "pair.possible_double_payment") == .pairPossibleDoublePayment)
    }

    @Test(arguments: StateStoreKind.allCases) func aFirstPaymentSeesNothing(_ kind: StateStoreKind) async throws {
        let row = try await run([payment("p1", from: 1, to: 2, at: 0)], kind)[0]
        #expect(value(row, .debtorCount24h) == 0)
        #expect(value(row, .pairNewPayee) == 1)
        #expect(value(row, .pairCount) == 0)
        #expect(value(row, .pairDaysSinceLast).isNaN)
        #expect(value(row, .debtorAmountMean).isNaN)
        #expect(value(row, .debtorHourUnusualness).isNaN)
        #expect(value(row, .debtorAccountAgeDays) == 0)
        #expect(value(row, .requestConfirmationOfPayee) == 2)
        #expect(value(row, .requestAmountLog10) == 2)
        #expect(value(row, .deviceDistinctDebtors24h).isNaN)
    }

    @Test(arguments: StateStoreKind.allCases) func debtorWindowsCountEarlierPaymentsAndExpire(_ kind: StateStoreKind) async throws {
        let rows = try await run([
            payment("p1", from: 1, to: 2, amount: "100.00", at: 0),
            payment("p2", from: 1, to: 3, amount: "50.00", at: 120),
            payment("p3", from: 1, to: 4, amount: "10.00", at: 2 * 3600),
            payment("p4", from: 1, to: 2, amount: "20.00", at: 8 * 86_400),
        ], kind)
        #expect(value(rows[1], .debtorCount5m) == 1)
        #expect(value(rows[1], .debtorSum5m) == 100)
        #expect(value(rows[1], .pairNewPayee) == 1)
        #expect(value(rows[2], .debtorCount5m) == 0)
        #expect(value(rows[2], .debtorCount1h) == 0)
        #expect(value(rows[2], .debtorCount24h) == 2)
        #expect(value(rows[2], .debtorSum24h) == 150)
        #expect(value(rows[2], .debtorDistinctCreditors24h) == 2)
        #expect(value(rows[2], .debtorAmountMean) == 75)
        #expect(value(rows[2], .debtorAmountStd) == 25)
        #expect(value(rows[2], .debtorAmountZScore) == -2.6)
        // Eight days later every window has expired, but the long-term profile remains.
        #expect(value(rows[3], .debtorCount7d) == 0)
        #expect(value(rows[3], .debtorDistinctCreditors24h) == 0)
        #expect(value(rows[3], .pairNewPayee) == 0)
        #expect(value(rows[3], .pairCount) == 1)
        #expect(value(rows[3], .pairDaysSinceLast) == 8)
        #expect(value(rows[3], .pairAmountVsMax) == 0.2)
        #expect(value(rows[3], .debtorAccountAgeDays) == 8)
    }

    @Test(arguments: StateStoreKind.allCases) func flagsPossibleDoublePaymentsWithinTenMinutes(_ kind: StateStoreKind) async throws {
        let rows = try await run([
            payment("p1", from: 1, to: 2, amount: "75.00", at: 0),
            payment("p2", from: 1, to: 2, amount: "75.00", at: 300),
            payment("p3", from: 1, to: 2, amount: "75.01", at: 360),
            payment("p4", from: 1, to: 2, amount: "75.00", at: 1000),
        ], kind)
        #expect(value(rows[0], .pairPossibleDoublePayment) == 0)
        #expect(value(rows[1], .pairPossibleDoublePayment) == 1)
        #expect(value(rows[2], .pairPossibleDoublePayment) == 0)
        // p4 comes 1000 s after p1 and 700 s after p2: both are outside the 10-minute window.
        #expect(value(rows[3], .pairPossibleDoublePayment) == 0)
    }

    @Test(arguments: StateStoreKind.allCases) func seesMuleFanInAcrossBanks(_ kind: StateStoreKind) async throws {
        var payments: [TokenizedPayment] = []
        for sender in 0..<12 {
            payments.append(payment("m\(sender)", from: 100 + UInt64(sender), to: 9, at: Int64(sender) * 60, bank: "BANK\(sender % 4)"))
        }
        payments.append(payment("repeat", from: 100, to: 9, at: 800, bank: "BANK0"))
        let rows = try await run(payments, kind)
        let last = rows[11]
        #expect(value(last, .creditorFirstTimeSenders1h) == 11)
        #expect(value(last, .creditorDistinctSendingBanks24h) == 4)
        #expect(value(last, .creditorInboundCount1h) == 11)
        #expect(value(last, .creditorInboundSum24h) == 1100)
        // A repeat sender is not first-time, so the counter does not move for it.
        let repeatRow = rows[12]
        #expect(value(repeatRow, .pairNewPayee) == 0)
        #expect(value(rows.last!, .creditorFirstTimeSenders1h) == 12)
    }

    @Test(arguments: StateStoreKind.allCases) func measuresPassThrough(_ kind: StateStoreKind) async throws {
        let rows = try await run([
            payment("in", from: 1, to: 9, amount: "1000.00", at: 0),
            payment("out", from: 9, to: 5, amount: "900.00", at: 600),
            payment("next", from: 2, to: 9, amount: "10.00", at: 1200),
        ], kind)
        #expect(value(rows[0], .creditorPassThroughRatio24h).isNaN)
        #expect(value(rows[2], .creditorPassThroughRatio24h) == 0.9)
        #expect(value(rows[2], .creditorAgeDays) == 1200.0 / 86_400)
        // The mule's own outgoing payment knows the account from its inbound history.
        #expect(value(rows[1], .debtorAccountAgeDays) == 600.0 / 86_400)
    }

    @Test(arguments: StateStoreKind.allCases) func countsDebtorsSharingADevice(_ kind: StateStoreKind) async throws {
        let rows = try await run([
            payment("a", from: 1, to: 9, at: 0, device: 7),
            payment("b", from: 2, to: 9, at: 60, device: 7),
            payment("c", from: 1, to: 9, at: 120, device: 7),
            payment("d", from: 3, to: 9, at: 90_000, device: 7),
        ], kind)
        #expect(value(rows[0], .deviceDistinctDebtors24h) == 0)
        #expect(value(rows[1], .deviceDistinctDebtors24h) == 1)
        #expect(value(rows[2], .deviceDistinctDebtors24h) == 2)
        // A day later both earlier debtors have left the 24-hour set.
        #expect(value(rows[3], .deviceDistinctDebtors24h) == 0)
    }

    @Test(arguments: StateStoreKind.allCases) func usesThePayersLocalHour(_ kind: StateStoreKind) async throws {
        var payments = (0..<10).map { payment("d\($0)", from: 1, to: 2, at: Int64($0) * 86_400 + 9 * 3600) }
        payments.append(payment("night", from: 1, to: 2, at: 10 * 86_400 + 3 * 3600))
        payments.append(payment("usual", from: 1, to: 2, at: 11 * 86_400 + 9 * 3600))
        payments.append(payment("shifted", from: 1, to: 2, at: 12 * 86_400 + 8 * 3600, offsetSeconds: 3600))
        let rows = try await run(payments, kind)
        #expect(value(rows[10], .debtorHourUnusualness) == 1 - 1.0 / 34)
        #expect(value(rows[11], .debtorHourUnusualness) == 1 - 11.0 / 35)
        #expect(value(rows[12], .debtorHourUnusualness) == 1 - 12.0 / 36)
    }

    /// Seconds (from the helpers' base time) of `hour` on day `day`, days counted from the first UTC midnight after it.
    static func at(day: Int64, hour: Int64 = 12) -> Int64 { 46_400 + day * 86_400 + hour * 3_600 }

    @Test(arguments: StateStoreKind.allCases) func debtorLongWindowsCountAcrossThe30And90DayEdges(_ kind: StateStoreKind) async throws {
        let at = Self.at
        let rows = try await run([
            payment("d0", from: 1, to: 2, at: at(0, 12)),
            payment("d1", from: 1, to: 2, at: at(10, 12)),
            payment("d2", from: 1, to: 3, at: at(20, 12)),
            payment("d3", from: 1, to: 4, at: at(29, 23)),
            payment("d4", from: 1, to: 5, at: at(30, 0)),
            payment("d5", from: 1, to: 2, at: at(95, 12)),
            payment("d6", from: 1, to: 6, at: at(130, 12)),
        ], kind)
        #expect(value(rows[0], .debtorCount30d) == 0)
        #expect(value(rows[0], .debtorNewPayees90d) == 0)
        // The second payment reads the first (a one-payment state): one payment, to a new payee.
        #expect(value(rows[1], .debtorCount30d) == 1)
        #expect(value(rows[1], .debtorNewPayees30d) == 1)
        // Day 29: days 0–29 are in the 30 days; d1 repeated a payee.
        #expect(value(rows[3], .debtorCount30d) == 3)
        #expect(value(rows[3], .debtorNewPayees30d) == 2)
        // Day 30: day 0 has left the 30 days, not the 90.
        #expect(value(rows[4], .debtorCount30d) == 3)
        #expect(value(rows[4], .debtorNewPayees30d) == 2)
        #expect(value(rows[4], .debtorCount90d) == 4)
        #expect(value(rows[4], .debtorNewPayees90d) == 3)
        // Day 95: nothing in 30 days; the 90 days (3-day buckets) reach back to day 8, so d0 has gone.
        #expect(value(rows[5], .debtorCount30d) == 0)
        #expect(value(rows[5], .debtorCount90d) == 4)
        #expect(value(rows[5], .debtorNewPayees90d) == 3)
        #expect(value(rows[5], .debtorCount7d) == 0)
        // Day 130: only d5 (day 95), a repeat payee, is left.
        #expect(value(rows[6], .debtorCount90d) == 1)
        #expect(value(rows[6], .debtorNewPayees90d) == 0)
    }

    @Test(arguments: StateStoreKind.allCases) func creditorLongWindowsCountSendersAndPassThrough(_ kind: StateStoreKind) async throws {
        let at = Self.at
        let rows = try await run([
            payment("s0", from: 100, to: 9, amount: "100.00", at: at(0, 12)),
            payment("s1", from: 101, to: 9, amount: "100.00", at: at(5, 12)),
            payment("s2", from: 100, to: 9, amount: "100.00", at: at(12, 12)),
            payment("o1", from: 9, to: 50, amount: "150.00", at: at(14, 12)),
            payment("s3", from: 102, to: 9, amount: "40.00", at: at(31, 12)),
            payment("s4", from: 103, to: 9, amount: "10.00", at: at(100, 12)),
        ], kind)
        #expect(value(rows[0], .creditorInboundCount30d) == 0)
        #expect(value(rows[0], .creditorDistinctSenders90d) == 0)
        #expect(value(rows[0], .creditorPassThroughRatio30d).isNaN)
        // s1 reads a one-payment creditor.
        #expect(value(rows[1], .creditorInboundCount30d) == 1)
        #expect(value(rows[1], .creditorDistinctSenders30d) == 1)
        #expect(value(rows[1], .creditorFirstTimeSenders30d) == 1)
        #expect(value(rows[1], .creditorPassThroughRatio30d) == 0)
        // s2 is a repeat sender: a payment, not a new sender.
        #expect(value(rows[2], .creditorInboundCount30d) == 2)
        // Day 31: day 0 has left the 30 days. In: s1, s2 (100 + 100); senders 101, 100; first-time: s1 only.
        let s3 = rows[4]
        #expect(value(s3, .creditorInboundCount30d) == 2)
        #expect(value(s3, .creditorDistinctSenders30d) == 2)
        #expect(value(s3, .creditorFirstTimeSenders30d) == 1)
        #expect(value(s3, .creditorPassThroughRatio30d) == 0.75)
        #expect(value(s3, .creditorInboundCount90d) == 3)
        #expect(value(s3, .creditorDistinctSenders90d) == 2)
        #expect(value(s3, .creditorFirstTimeSenders90d) == 2)
        #expect(value(s3, .creditorPassThroughRatio90d) == 0.5)
        #expect(value(s3, .creditorInboundCount24h) == 0)
        // Day 100: nothing in 30 days; 90 days reach back to day 11 (buckets) / day 11 (senders): s2 and s3.
        let s4 = rows[5]
        #expect(value(s4, .creditorInboundCount30d) == 0)
        #expect(value(s4, .creditorPassThroughRatio30d).isNaN)
        #expect(value(s4, .creditorInboundCount90d) == 2)
        #expect(value(s4, .creditorDistinctSenders90d) == 2)
        #expect(value(s4, .creditorFirstTimeSenders90d) == 1)
        #expect(value(s4, .creditorPassThroughRatio90d) == 150.0 / 140)
    }

    @Test(arguments: StateStoreKind.allCases) func replayingTheSameHistoryGivesTheSameValues(_ kind: StateStoreKind) async throws {
        var payments: [TokenizedPayment] = []
        var seed: UInt64 = 42
        for i in 0..<500 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            payments.append(payment(
                "r\(i)", from: seed >> 60, to: (seed >> 40) & 15, amount: "\(seed >> 54).00", at: Int64(i) * 97,
                bank: "B\(seed & 3)", device: seed & 1 == 0 ? (seed >> 20) & 3 : nil
            ))
        }
        let first = try await run(payments, kind)
        let second = try await run(payments, kind)
        #expect(first.count == second.count)
        for (a, b) in zip(first, second) {
            #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }
}

/// Two nodes scoring one debtor's payments at the same moment lose no update: the next payment counts them all.
struct ConcurrentUpdateTests {
    static func observe<Store: FeatureStore>(_ payment: TokenizedPayment, on store: Store) async throws -> [Double] {
        var features: [Double] = []
        try await FeatureExtractor(store: store).observe(payment, into: &features)
        return features
    }

    @Test(arguments: StateStoreKind.allCases)
    func twoNodesPayingFromOneDebtorAtOnceLoseNoUpdate(_ kind: StateStoreKind) async throws {
        let (a, b) = try await kind.twoNodes()
        let perNode = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in 0..<2 {
                for i in 0..<perNode {
                    group.addTask {
                        let p = payment("n\(node)-\(i)", from: 1, to: UInt64(100 + i), at: Int64(2 * i + node))
                        let store: any FeatureStore = node == 0 ? a : b
                        _ = try await Self.observe(p, on: store)
                    }
                }
            }
            try await group.waitForAll()
        }
        let features = try await Self.observe(payment("next", from: 1, to: 2, at: 100), on: a)
        #expect(features[Feature.debtorCount24h.rawValue] == Double(2 * perNode))
        #expect(features[Feature.debtorDistinctCreditors24h.rawValue] == Double(perNode))
        // Fifty writers on one record met: on Redis some attempts were repeated, and counted.
        if kind != .memory { #expect(StateStoreKind.retries([a, b]) > 0) }
    }
}

/// The features the reference data gives (issue 13): reports known before the payment within 90 days, institution
/// types, and the customer's windows over its linked accounts, on each store.
struct ReferenceFeatureTests {
    func value(_ row: [Double], _ feature: Feature) -> Double { row[feature.rawValue] }

    @Test(arguments: StateStoreKind.allCases)
    func reportsCountOnceKnownAndAgeFromWhenTheyWereMade(_ kind: StateStoreKind) async throws {
        try await reportsCountOnceKnownAndAgeFromWhenTheyWereMade(try await kind.featureStore())
    }

    func reportsCountOnceKnownAndAgeFromWhenTheyWereMade(_ store: some FeatureStore) async throws {
        let extractor = FeatureExtractor(store: store)
        let at = (1_795_000_000 + 100 * 86_400) * 1000 as Int64
        let day: Int64 = 86_400_000
        let facts = ReferenceFacts(creditorReports: [
            ReportTimes(knownAt: at - 91 * day, reportedAt: at - 91 * day),  // too old
            ReportTimes(knownAt: at - 90 * day + 1, reportedAt: at - 90 * day + 1),
            // Made 3 days ago, known (loaded) only yesterday: its age runs from when it was made.
            ReportTimes(knownAt: at - day, reportedAt: at - 3 * day),
            // Made 95 days ago but loaded 2 days ago: known, yet older than the 90-day window.
            ReportTimes(knownAt: at - 2 * day, reportedAt: at - 95 * day),
            ReportTimes(knownAt: at + 1, reportedAt: at - 5 * day),  // known after the payment: not yet
        ])
        var features: [Double] = []
        try await extractor.observe(payment("p1", from: 1, to: 2, at: 100 * 86_400), identity: 1, facts: facts, into: &features)
        #expect(value(features, .creditorReportedFraudCount90d) == 2)
        #expect(value(features, .creditorDaysSinceLastReport) == 3)
        #expect(value(features, .creditorInstitutionType).isNaN)
        #expect(value(features, .customerCount24h).isNaN)
        #expect(value(features, .customerLinkedAccounts).isNaN)

        try await extractor.observe(payment("p2", from: 1, to: 3, at: 100 * 86_400), identity: 2, facts: ReferenceFacts.none, into: &features)
        #expect(value(features, .creditorReportedFraudCount90d) == 0)
        #expect(value(features, .creditorDaysSinceLastReport).isNaN)
    }

    @Test(arguments: StateStoreKind.allCases)
    func aCustomersWindowsSpanItsLinkedAccountsAndCountAPaymentOnce(_ kind: StateStoreKind) async throws {
        try await aCustomersWindowsSpanItsLinkedAccountsAndCountAPaymentOnce(try await kind.featureStore())
    }

    func aCustomersWindowsSpanItsLinkedAccountsAndCountAPaymentOnce(_ store: some FeatureStore) async throws {
        let extractor = FeatureExtractor(store: store)
        let customer = token(7_000)
        let facts = ReferenceFacts(debtorInstitution: .emi, creditorInstitution: .gambling, customer: customer, linkedAccounts: 3)
        var features: [Double] = []
        try await extractor.observe(payment("a", from: 1, to: 10, amount: "10.00", at: 0), identity: 1, facts: facts, into: &features)
        try await extractor.observe(payment("b", from: 2, to: 11, amount: "20.00", at: 60), identity: 2, facts: facts, into: &features)
        // The same payment again (its other bank, a replay): not counted twice in the customer's record.
        try await extractor.observe(payment("b", from: 2, to: 11, amount: "20.00", at: 60), identity: 2, facts: facts, into: &features)
        try await extractor.observe(payment("c", from: 3, to: 10, amount: "5.00", at: 2 * 86_400), identity: 3, facts: facts, into: &features)
        #expect(value(features, .customerCount24h) == 0)
        #expect(value(features, .customerCount7d) == 2)
        try await extractor.observe(payment("d", from: 1, to: 12, amount: "1.00", at: 2 * 86_400 + 60), identity: 4, facts: facts, into: &features)
        #expect(value(features, .customerCount24h) == 1)
        #expect(value(features, .customerSum24h) == 5)
        #expect(value(features, .customerCount7d) == 3)
        #expect(value(features, .customerDistinctCreditors24h) == 1)
        #expect(value(features, .customerLinkedAccounts) == 3)
        #expect(value(features, .debtorInstitutionType) == InstitutionType.emi.featureCode)
        #expect(value(features, .creditorInstitutionType) == InstitutionType.gambling.featureCode)
        // The debtor's own windows are its own account's.
        #expect(value(features, .debtorCount7d) == 1)
    }
}
