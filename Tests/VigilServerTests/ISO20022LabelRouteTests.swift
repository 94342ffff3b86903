import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilGateway
import VigilISO20022
import VigilServer

/// `POST /v1/iso20022/pacs.002` and `POST /v1/iso20022/camt.056`: outcomes and fraud recalls recorded as run-time
/// labels, all or nothing.
struct ISO20022LabelRouteTests {
    static let canaryIBAN = "GB33BUKB20201555555555"
    static let createdAt = Instant(epochMillis: 1_796_000_000_000)

    func logged(_ dir: String) throws -> [LabelEvent] {
        var labels: [LabelEvent] = []
        try FileEventLog.read(directory: dir + "/events") { _, payload in
            if case .label(let label) = try EventCoding.decodeRecord(payload) { labels.append(label) }
        }
        return labels
    }

    func post(_ client: any TestClientProtocol, key: String, _ path: String, _ bytes: [UInt8], contentType: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/iso20022/" + path, method: .post, headers: headers(key: key, contentType: contentType), body: ByteBuffer(bytes: bytes)
        ) { $0 }
    }

    @Test(arguments: MessageFormat.allCases)
    func aStatusReportRecordsEachFinalStatusAsAnOutcome(_ format: MessageFormat) async throws {
        let dir = temporaryDataDirectory()
        let uetr = UUID().uuidString.lowercased()
        let document = ISO20022Corpus.statusReport(
            [(uetr, nil, "ACSC", nil), (nil, "E2E-2", "RJCT", "AC04"), (nil, "E2E-3", "ACTC", nil)], messageId: "S-1", createdAt: Self.createdAt
        )
        let bytes = format == .xml ? ISO20022XML.render(document) : ISO20022JSON.render(document)
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await post(client, key: key, "pacs.002", bytes, contentType: format == .xml ? "application/xml" : "application/json")
            #expect(response.status == .ok)
            #expect(object(response.body)["recorded"] as? Int == 2)
            #expect(object(response.body)["ignored"] as? Int == 1)
        }
        let labels = try logged(dir)
        #expect(labels.map(\.source) == [.pacs002, .pacs002])
        #expect(labels.map(\.record) == [
            .outcome(PaymentStatusReport(paymentId: nil, uetr: uetr, status: .settled, reasonCode: nil, at: Self.createdAt)),
            .outcome(PaymentStatusReport(paymentId: "E2E-2", uetr: nil, status: .rejected, reasonCode: "AC04", at: Self.createdAt)),
        ])
    }

    @Test func aFraudRecallIsAFraudReportAndItsCreditorNeverPlaintext() async throws {
        let dir = temporaryDataDirectory()
        let gbp = Currency(code: "GBP")!
        let payment = PaymentRequest(
            paymentId: "E2E-9", perspective: .sending, type: .push, scheme: "FPS", channel: nil,
            amount: try Money.parse("480.00", currency: gbp).get(), createdAt: Self.createdAt,
            debtor: Party(name: "Alice Example", account: .iban("GB29NWBK60161331926819"), agent: nil),
            creditor: Party(name: "Mule Canary", account: .iban(Self.canaryIBAN), agent: nil), payeeFirstSeenAt: nil,
            confirmationOfPayee: nil, deviceId: nil, ip: nil, reference: nil, uetr: nil
        )
        let fraud = ISO20022Corpus.cancellationRequest([payment], id: "C-1", createdAt: Self.createdAt)
        let duplicate = ISO20022Corpus.cancellationRequest([payment], reason: "DUPL", id: "C-2", createdAt: Self.createdAt)
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await post(client, key: key, "camt.056", ISO20022XML.render(fraud), contentType: "text/xml")
            #expect(response.status == .ok)
            #expect(object(response.body)["recorded"] as? Int == 1)
            // A recall for another reason is no label.
            let other = try await post(client, key: key, "camt.056", ISO20022XML.render(duplicate), contentType: "application/xml")
            #expect(object(other.body)["recorded"] as? Int == 0)
            #expect(object(other.body)["ignored"] as? Int == 1)
        }
        let labels = try logged(dir)
        #expect(labels.count == 1)
        guard case .fraudReport(let report)? = labels.first?.record else { Issue.record("no fraud report"); return }
        #expect(labels.first?.source == .camt056)
        #expect(report.paymentId == "E2E-9" && report.amountLost?.decimalString == "480.00" && report.creditorAccount != nil)
        var plaintext = false
        try FileEventLog.read(directory: dir + "/events") { _, payload in
            if Data(payload).range(of: Data(Self.canaryIBAN.utf8)) != nil || Data(payload).range(of: Data("Mule Canary".utf8)) != nil {
                plaintext = true
            }
        }
        #expect(!plaintext)
    }

    @Test func aBadTransactionOrTheWrongMessageRecordsNothing() async throws {
        let dir = temporaryDataDirectory()
        let bad = ISO20022Corpus.statusReport(
            [(UUID().uuidString.lowercased(), nil, "ACSC", nil), ("not-a-uetr", nil, "RJCT", "FRAD")], messageId: "S-2", createdAt: Self.createdAt
        )
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await post(client, key: key, "pacs.002", ISO20022XML.render(bad), contentType: "application/xml")
            #expect(response.status == .badRequest)
            let problem = object(response.body)
            #expect(problem["type"] as? String == "urn:vigil:problem:validation-failed")
            let pointers = (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
            #expect(pointers == ["/Document/FIToFIPmtStsRpt/TxInfAndSts[2]/OrgnlUETR"])
            // A status report sent where a recall is expected names the message it wanted.
            let wrong = try await post(client, key: key, "camt.056", ISO20022XML.render(bad), contentType: "application/xml")
            #expect(wrong.status == .badRequest)
            #expect(object(wrong.body)["type"] as? String == "urn:vigil:problem:iso20022-unsupported-message")
        }
        #expect(try logged(dir).isEmpty)
    }
}
