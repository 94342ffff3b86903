import Foundation
import Testing
import VigilDomain
import VigilGateway
import VigilSimulation

struct SimulationTests {
    @Test func theSameSeedWritesTheSameBytesAndAnotherSeedDoesNot() throws {
        let a = try SimulatedFiles(seed: 7, payments: 10_000)
        let b = try SimulatedFiles(seed: 7, payments: 10_000)
        let c = try SimulatedFiles(seed: 8, payments: 10_000)
        #expect(a.historyBytes == b.historyBytes)
        #expect(a.labelsBytes == b.labelsBytes)
        #expect(a.historyBytes != c.historyBytes)
        #expect(a.labelsBytes != c.labelsBytes)
    }

    @Test func theHeadersAreTheDocumentedColumns() {
        #expect(shared.header.joined(separator: ",") == """
            paymentId,perspective,type,scheme,channel,amount,currency,createdAt,debtor.name,debtor.account.iban,\
            debtor.account.sortCode,debtor.account.accountNumber,debtor.account.scheme,debtor.account.id,debtor.agent,\
            creditor.name,creditor.account.iban,creditor.account.sortCode,creditor.account.accountNumber,\
            creditor.account.scheme,creditor.account.id,creditor.agent,payee.firstSeenAt,payee.confirmationOfPayee,\
            device.id,device.ip,reference,uetr
            """)
        #expect(String(decoding: shared.labelsBytes.prefix(32), as: UTF8.self).hasPrefix("paymentId,reportedAt,fraudType\n"))
        #expect(shared.rows.allSatisfy { $0.count == shared.header.count })
        #expect(shared.labelRows.allSatisfy { $0.count == 3 })
    }

    @Test func everyRowPassesTheAPIsValidation() {
        let decoder = PaymentRequestDecoder()
        let fraud = shared.labelled
        // Every 10th row and every labelled one: a few thousand bodies.
        let sample = shared.rows.enumerated().filter { $0.offset % 10 == 0 || fraud[$0.element[0]] != nil }.map(\.element)
        #expect(sample.count > 5000)
        var failures: [String] = []
        for row in sample {
            if case .failure(let rejection) = decoder.decode(shared.requestBody(row)) {
                failures.append("\(row[0]): \(rejection)")
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func rowsAreExactlyThePaymentsUniqueAndInTimeOrderWithinThePeriod() {
        #expect(shared.rows.count == 50_000)
        #expect(shared.summary.rows == 50_000)
        #expect(Set(shared.rows.map { $0[0] }).count == shared.rows.count)
        #expect(shared.rows.allSatisfy { (1...64).contains($0[0].count) })
        let times = shared.rows.map { Instant(rfc3339: $0[shared.column("createdAt")])!.epochMillis }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        let start = shared.configuration.start.epochMillis
        let end = start + Int64(shared.configuration.days) * 86_400_000
        #expect(times.first! >= start && times.last! < end)
    }

    @Test func labelsNameExistingPaymentsAndComeInAfterThem() {
        let createdAt = Dictionary(uniqueKeysWithValues: shared.rows.map {
            ($0[0], Instant(rfc3339: $0[shared.column("createdAt")])!.epochMillis)
        })
        for label in shared.labelRows {
            let created = createdAt[label[0]]
            #expect(created != nil, "label for unknown payment \(label[0])")
            let reported = Instant(rfc3339: label[1])?.epochMillis
            #expect(reported != nil && created != nil && reported! > created!)
            #expect(FraudType(rawValue: label[2]) != nil)
        }
        #expect(Set(shared.labelRows.map { $0[0] }).count == shared.labelRows.count)
    }

    @Test func theFraudRateIsRealisticAndEveryTypologyIsPresent() {
        let rate = Double(shared.labelRows.count) / Double(shared.rows.count)
        #expect(rate >= 0.001 && rate <= 0.005)
        #expect(shared.summary.fraudRows == shared.labelRows.count)
        let types = Set(shared.labelRows.map { $0[2] })
        for type in [FraudType.appScam, .accountTakeover, .mule, .firstParty] {
            #expect(types.contains(type.rawValue), "no \(type.rawValue) label")
        }
    }

    @Test func aboutSeventyPercentOfRowsAreAskedByTheSendingBank() {
        let sending = shared.rows.filter { $0[1] == "sending" }.count
        let share = Double(sending) / Double(shared.rows.count)
        #expect(share > 0.62 && share < 0.78)
    }

    @Test func noTypologyIsSeparableByTheNameCheckAlone() {
        let fraud = shared.labelled
        let cop = shared.column("payee.confirmationOfPayee")
        var seenPairs = Set<String>()
        var genuineNewPayeeMismatches = 0
        for row in shared.rows {
            let pair = shared.accountKey(row, side: "debtor") + ">" + shared.accountKey(row, side: "creditor")
            let isNew = seenPairs.insert(pair).inserted
            if isNew, fraud[row[0]] == nil, row[cop] == "no_match" || row[cop] == "close_match" { genuineNewPayeeMismatches += 1 }
        }
        #expect(genuineNewPayeeMismatches >= 20)
        let scamMatches = shared.rows.filter { fraud[$0[0]] == "app_scam" && $0[cop] == "match" }.count
        let scamMismatches = shared.rows.filter { fraud[$0[0]] == "app_scam" && $0[cop] == "no_match" }.count
        #expect(scamMatches >= 5)
        #expect(scamMismatches >= 1)
    }

    @Test func genuinePayeesAlsoReceiveFromManyBanksAndGenuinePaymentsHappenAtNight() {
        let fraud = shared.labelled
        var senders: [String: Set<String>] = [:]
        var banks: [String: Set<String>] = [:]
        var nightly = 0
        for row in shared.rows where fraud[row[0]] == nil {
            let creditor = shared.accountKey(row, side: "creditor")
            senders[creditor, default: []].insert(shared.accountKey(row, side: "debtor"))
            banks[creditor, default: []].insert(row[shared.column("debtor.agent")])
            if Instant(rfc3339: row[shared.column("createdAt")])!.localHour < 5 { nightly += 1 }
        }
        #expect(senders.filter { $0.value.count >= 50 && banks[$0.key]!.count >= 3 }.count >= 5)
        #expect(nightly >= 500)
    }

    @Test func muleAccountsCollectFromSeveralVictims() {
        let fraud = shared.labelled
        var victims: [String: Set<String>] = [:]
        for row in shared.rows where fraud[row[0]] != nil && fraud[row[0]] != "first_party" {
            victims[shared.accountKey(row, side: "creditor"), default: []].insert(shared.accountKey(row, side: "debtor"))
        }
        #expect(victims.values.contains { $0.count >= 3 })
    }

    @Test func badConfigurationsAndUnwritablePathsAreClearErrors() {
        #expect(throws: SimulationError.self) {
            try simulate(SimulationConfiguration(seed: 1, payments: 0), historyTo: "/tmp/x.csv", labelsTo: "/tmp/y.csv")
        }
        do {
            _ = try simulate(
                SimulationConfiguration(seed: 1, payments: 10), historyTo: "/nonexistent-dir/history.csv",
                labelsTo: "/nonexistent-dir/labels.csv"
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .cannotWrite)
            #expect(error.description.contains("/nonexistent-dir/history.csv"))
        }
    }

    @Test func aTinyRunStillWritesExactlyItsPayments() throws {
        let files = try SimulatedFiles(seed: 3, payments: 25)
        #expect(files.rows.count == 25)
    }
}

struct SimulatedFilesReaderTests {
    @Test func theGatewaysHistoryAndLabelReadersAcceptEveryRow() throws {
        let files = try SimulatedFiles(seed: 11, payments: 10_000)
        let (rows, summary) = try HistoryReader().read(files.historyBytes)
        #expect(summary.accepted == files.rows.count, "\(summary.examples.prefix(3))")
        #expect(rows.count == files.rows.count)
        let (labels, labelSummary) = try LabelReader().read(files.labelsBytes)
        #expect(labels.count == files.labelRows.count, "\(labelSummary.examples.prefix(3))")
    }
}
