import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilGateway
import VigilISO20022
import VigilSimulation

/// Payments of a small simulation, read back as the API reads them.
enum SimulatedPayments {
    static let all: [PaymentRequest] = {
        let directory = NSTemporaryDirectory() + "vigil-iso-corpus-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try! simulate(SimulationConfiguration(seed: 7, payments: 300), historyTo: directory + "/history.csv", labelsTo: directory + "/labels.csv")
        let bytes = Array(try! Data(contentsOf: URL(fileURLWithPath: directory + "/history.csv")))
        return try! HistoryReader().read(bytes).rows.map(\.request)
    }()
}

/// The generated corpus: XML and JSON renderings read to the same tree and map back to the simulated payments.
struct CorpusTests {
    static let at = Instant(rfc3339: "2026-11-22T09:30:00Z")!

    /// What a pacs.008 carries of a payment: everything but the fields it has no element for.
    func carried(_ payment: PaymentRequest) -> String {
        let party = { (p: Party) in "\(p.name ?? "-")|\(p.account.canonical)|\(p.agent ?? "-")" }
        return [
            payment.uetr ?? payment.paymentId, payment.uetr ?? "-", payment.scheme, payment.amount.decimalString, payment.amount.currency.code,
            "\(payment.createdAt.epochMillis)@\(payment.createdAt.utcOffsetSeconds)", party(payment.debtor), party(payment.creditor),
            payment.reference.flatMap { $0.isEmpty ? nil : $0 } ?? "-", payment.perspective.rawValue, payment.type.rawValue,
        ].joined(separator: " ")
    }

    @Test(arguments: 8...12)
    func simulatedPaymentsSurviveXMLAndJSONIdentically(_ version: Int) throws {
        let payments = SimulatedPayments.all.filter { $0.type == .push }
        #expect(payments.count > 100)
        #expect(Set(payments.map(\.scheme)).count >= 4)
        for start in stride(from: 0, to: payments.count, by: 50) {
            let slice = Array(payments[start..<min(start + 50, payments.count)])
            let document = ISO20022Corpus.creditTransfer(slice, version: version, messageId: "M\(start)", createdAt: Self.at)
            let xml = try ISO20022Document.read(ISO20022XML.render(document), format: .xml, kind: .pacs008)
            let json = try ISO20022Document.read(ISO20022JSON.render(document), format: .json, kind: .pacs008)
            #expect(xml == document)
            #expect(json == document)
            for (payment, result) in zip(slice, CreditTransferMapping(perspective: .sending).payments(try CreditTransfer(xml))) {
                var expected = payment
                expected.perspective = .sending
                #expect(try carried(result.get()) == carried(expected))
            }
        }
    }

    @Test func everyInvalidMessageIsRefusedWithItsCodeAndPointer() throws {
        let valid = ISO20022Corpus.creditTransfer(Array(SimulatedPayments.all.prefix(3)), messageId: "M", createdAt: Self.at)
        let cases = ISO20022Corpus.invalidCreditTransfers(from: valid)
        #expect(cases.count >= 40)
        for invalid in cases {
            do {
                _ = try CreditTransfer(try ISO20022Document.read(invalid.body, format: invalid.format, kind: .pacs008))
                Issue.record("\(invalid.name) was accepted")
            } catch {
                #expect(error.code == invalid.code, "\(invalid.name)")
                if let pointer = invalid.pointer { #expect(error.pointer == pointer, "\(invalid.name)") }
            }
        }
    }

    @Test func statusReportsAndRecallsSurviveXMLAndJSONIdentically() throws {
        let payments = Array(SimulatedPayments.all.prefix(20))
        let statuses = payments.enumerated().map { (uetr: $1.uetr, endToEndId: $1.paymentId, status: $0 % 2 == 0 ? "ACSC" : "RJCT", reason: $0 % 2 == 0 ? nil : "AM04") }
        for document in [
            ISO20022Corpus.statusReport(statuses, messageId: "S", createdAt: Self.at),
            ISO20022Corpus.cancellationRequest(payments, id: "C", createdAt: Self.at),
        ] {
            let xml = try ISO20022Document.read(ISO20022XML.render(document), format: .xml, kind: document.kind)
            let json = try ISO20022Document.read(ISO20022JSON.render(document), format: .json, kind: document.kind)
            #expect(xml == document && json == document)
        }
        let recalls = LabelMapping.fraudReports(try CancellationRequest(ISO20022Corpus.cancellationRequest(payments, id: "C", createdAt: Self.at)))
        for (payment, result) in zip(payments, recalls) {
            guard case .fraudReport(let report) = result else { Issue.record("not a report: \(result)"); continue }
            #expect(report.uetr == payment.uetr)
            #expect(report.paymentId == (payment.uetr == nil ? payment.paymentId : nil))
            #expect(report.amountLost == payment.amount)
            #expect(report.creditorAccount == payment.creditor.account)
        }
    }
}
