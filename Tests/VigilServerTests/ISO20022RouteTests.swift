import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilGateway
import VigilISO20022
import VigilProtection
import VigilServer

/// `POST /v1/iso20022/pacs.008`: each transaction answered as `/v1/payments/score` answers the same payment.
struct ISO20022RouteTests {
    static let route = "/v1/iso20022/pacs.008"

    /// Three payments a minute old (so their features are computed at their own time, the same in every run), in
    /// the forms pacs.008 carries: IBAN, sort code and account number, a scheme id; with and without UETR.
    static func payments(debtorName: String = "Alice Example", creditorIBAN: String = "GB82WEST12345698765432") -> [PaymentRequest] {
        let now = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        let gbp = Currency(code: "GBP")!
        let money = { (text: String) in try! Money.parse(text, currency: gbp).get() }
        return [
            PaymentRequest(
                paymentId: "E2E-\(UUID().uuidString.prefix(8))", perspective: .sending, type: .push, scheme: "FPS", channel: nil,
                amount: money("250.00"), createdAt: Instant(epochMillis: now - now % 1000), debtor: Party(
                    name: debtorName, account: .ukDomestic(sortCode: "404142", accountNumber: "12345678"), agent: "NWBKGB2L"
                ), creditor: Party(name: "Bob Payee", account: .iban(creditorIBAN), agent: nil), payeeFirstSeenAt: nil,
                confirmationOfPayee: nil, deviceId: nil, ip: nil, reference: "invoice 7", uetr: UUID().uuidString.lowercased()
            ),
            PaymentRequest(
                paymentId: "E2E-\(UUID().uuidString.prefix(8))", perspective: .sending, type: .push, scheme: "FPS", channel: nil,
                amount: money("1999.99"), createdAt: Instant(epochMillis: now - now % 1000 + 1000), debtor: Party(
                    name: debtorName, account: .ukDomestic(sortCode: "404142", accountNumber: "12345678"), agent: "NWBKGB2L"
                ), creditor: Party(name: "Carol Mule", account: .ukDomestic(sortCode: "200000", accountNumber: "55779911"), agent: "BARCGB22"),
                payeeFirstSeenAt: nil, confirmationOfPayee: nil, deviceId: nil, ip: nil, reference: nil, uetr: nil
            ),
            PaymentRequest(
                paymentId: "E2E-\(UUID().uuidString.prefix(8))", perspective: .sending, type: .push, scheme: "FPS", channel: nil,
                amount: money("12.50"), createdAt: Instant(epochMillis: now - now % 1000 + 2000), debtor: Party(
                    name: nil, account: .iban("GB29NWBK60161331926819"), agent: nil
                ), creditor: Party(name: "Dan Shop", account: .scheme(scheme: "PAYM", id: "447700900123"), agent: nil),
                payeeFirstSeenAt: nil, confirmationOfPayee: nil, deviceId: nil, ip: nil, reference: "order 55", uetr: UUID().uuidString.lowercased()
            ),
        ]
    }

    static func message(_ payments: [PaymentRequest], format: MessageFormat) -> ByteBuffer {
        let document = ISO20022Corpus.creditTransfer(payments, messageId: "M-\(UUID().uuidString.prefix(8))", createdAt: payments[0].createdAt)
        return ByteBuffer(bytes: format == .xml ? ISO20022XML.render(document) : ISO20022JSON.render(document))
    }

    /// The `/v1/payments/score` body of the same payment.
    static func scoreBody(_ payment: PaymentRequest) -> [String: Any] {
        func party(_ party: Party) -> [String: Any] {
            var out: [String: Any] = [:]
            if let name = party.name { out["name"] = name }
            if let agent = party.agent { out["agent"] = agent }
            switch party.account {
            case .iban(let iban): out["account"] = ["iban": iban]
            case .ukDomestic(let sortCode, let number): out["account"] = ["sortCode": sortCode, "accountNumber": number]
            case .scheme(let scheme, let id): out["account"] = ["scheme": scheme, "id": id]
            }
            return out
        }
        var body: [String: Any] = [
            "paymentId": payment.uetr ?? payment.paymentId, "perspective": "sending", "type": "push", "scheme": payment.scheme,
            "amount": payment.amount.decimalString, "currency": "GBP", "createdAt": payment.createdAt.rfc3339UTC,
            "debtor": party(payment.debtor), "creditor": party(payment.creditor),
        ]
        if let reference = payment.reference { body["reference"] = reference }
        if let uetr = payment.uetr { body["uetr"] = uetr }
        return body
    }

    static func results(_ buffer: ByteBuffer) -> [[String: Any]] {
        object(buffer)["results"] as? [[String: Any]] ?? []
    }

    /// A score answer without what differs between two scorings of one payment.
    static func comparable(_ answer: [String: Any], withoutPaymentId: Bool = false) -> String {
        var copy = answer
        copy["processingMicros"] = nil
        copy["scoreId"] = nil
        copy["duplicate"] = nil
        if withoutPaymentId { copy["paymentId"] = nil }
        return String(decoding: try! JSONSerialization.data(withJSONObject: copy, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test(arguments: MessageFormat.allCases)
    func eachTransactionIsAnsweredExactlyAsTheScoreRouteAnswersItsPayment(_ format: MessageFormat) async throws {
        let payments = Self.payments()
        let contentType = format == .xml ? "application/xml; charset=utf-8" : "application/json"
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let results = try await client.execute(
                uri: Self.route + "?perspective=sending", method: .post, headers: headers(key: key, contentType: contentType),
                body: Self.message(payments, format: format)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                return Self.results(response.body)
            }
            #expect(results.count == 3)
            for (payment, result) in zip(payments, results) {
                #expect(result["paymentId"] as? String == payment.uetr ?? payment.paymentId)
                #expect(result["duplicate"] as? Bool == false)
                // The same payment sent to the score route is the same payment to the engine: a duplicate (not a 409
                // reuse) carrying the ISO transaction's answer.
                let again = try await client.execute(
                    uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(Self.scoreBody(payment))
                ) { response in
                    #expect(response.status == .ok)
                    return object(response.body)
                }
                #expect(again["duplicate"] as? Bool == true)
                #expect(again["scoreId"] as? String == result["scoreId"] as? String)
                #expect(Self.comparable(again) == Self.comparable(result))
            }
        }
        // A fresh server scoring the three through the score route gives the same answers as the ISO route did.
        let reference = Self.payments()
        let viaScore = try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var answers: [String] = []
            for payment in reference {
                answers.append(Self.comparable(try await client.execute(
                    uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(Self.scoreBody(payment))
                ) { object($0.body) }, withoutPaymentId: true))
            }
            return answers
        }
        let viaISO = try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            try await client.execute(
                uri: Self.route + "?perspective=sending", method: .post, headers: headers(key: key, contentType: contentType),
                body: Self.message(reference, format: format)
            ) { Self.results($0.body).map { Self.comparable($0, withoutPaymentId: true) } }
        }
        #expect(viaISO.count == 3)
        #expect(viaISO == viaScore)
    }

    @Test func aTransactionTheScoreRouteWouldRefuseGetsItsProblemInItsPlace() async throws {
        var changed = Self.payments()
        changed[1].amount = try Money.parse("12.345", currency: Currency(code: "KWD")!).get()
        let payments = changed
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var body = String(buffer: Self.message(payments, format: .xml))
            // Three decimals in a two-decimal currency: the score route's 400 validation-failed.
            body = body.replacingOccurrences(of: "Ccy=\"KWD\"", with: "Ccy=\"GBP\"")
            let results = try await client.execute(
                uri: Self.route + "?perspective=sending", method: .post, headers: headers(key: key, contentType: "text/xml"), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                return Self.results(response.body)
            }
            #expect(results.count == 3)
            #expect(results[0]["score"] is Int && results[2]["score"] is Int)
            #expect(results[1]["type"] as? String == "urn:vigil:problem:validation-failed")
            #expect(results[1]["status"] as? Int == 400)
            let errors = results[1]["errors"] as? [[String: Any]] ?? []
            #expect(errors.map { $0["pointer"] as? String } == ["/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"])
        }
    }

    @Test func thePerspectiveComesFromTheQueryOrTheTenantsOnlyEntitlement() async throws {
        let dir = temporaryDataDirectory()
        let admin = Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
        let receiverKey = try admin.createTenant(name: "receiver")
        try admin.setPerspectives(name: "receiver", perspectives: [.receiving])
        let bothKey = try admin.createTenant(name: "both")
        try await withVigil(dataDirectory: dir) { client, _ in
            let post = { (key: String, query: String) in
                try await client.execute(
                    uri: Self.route + query, method: .post, headers: headers(key: key, contentType: "application/xml"),
                    body: Self.message(Self.payments(), format: .xml)
                ) { ($0.status, object($0.body)) }
            }
            let (only, onlyBody) = try await post(receiverKey, "")
            #expect(only == .ok)
            #expect((onlyBody["results"] as? [[String: Any]])?.allSatisfy { $0["score"] is Int } == true)
            let (refused, refusedBody) = try await post(receiverKey, "?perspective=sending")
            #expect(refused == .forbidden)
            #expect(refusedBody["type"] as? String == "urn:vigil:problem:forbidden-perspective")
            let (ambiguous, ambiguousBody) = try await post(bothKey, "")
            #expect(ambiguous == .badRequest)
            #expect(ambiguousBody["type"] as? String == "urn:vigil:problem:perspective-required")
            let (invalid, invalidBody) = try await post(bothKey, "?perspective=sideways")
            #expect(invalid == .badRequest)
            #expect(invalidBody["type"] as? String == "urn:vigil:problem:validation-failed")
            #expect(try await post(bothKey, "?perspective=receiving").0 == .ok)
        }
    }

    @Test func eachTransactionSpendsOnePaymentOfThePlan() async throws {
        let dir = temporaryDataDirectory()
        let admin = Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
        let key = try admin.createTenant(name: "small")
        // Two payments, then nothing for an hour: the third transaction is over the plan, as a third request would be.
        try admin.setPlan(name: "small", plan: UsagePlan(ratePerSecond: 1.0 / 3600, burst: 2))
        try await withVigil(dataDirectory: dir) { client, _ in
            let results = try await client.execute(
                uri: Self.route + "?perspective=sending", method: .post, headers: headers(key: key, contentType: "application/xml"),
                body: Self.message(Self.payments(), format: .xml)
            ) { response in
                #expect(response.status == .ok)
                return Self.results(response.body)
            }
            #expect(results.count == 3)
            #expect(results[0]["score"] is Int && results[1]["score"] is Int)
            #expect(results[2]["type"] as? String == "urn:vigil:problem:rate-limited")
            #expect(results[2]["status"] as? Int == 429)
        }
    }

    @Test func wholeMessageProblemsAre400WithAStableTypeAndThePointer() async throws {
        let valid = ISO20022Corpus.creditTransfer(Self.payments(), messageId: "M", createdAt: Instant(epochMillis: 0))
        let invalid = Dictionary(uniqueKeysWithValues: ISO20022Corpus.invalidCreditTransfers(from: valid).map { ($0.name, $0) })
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let expectations: [(String, String, String?)] = [
                ("xxe-system-entity", "iso20022-refused", nil),
                ("billion-laughs", "iso20022-refused", nil),
                ("deep-nesting", "iso20022-limit-exceeded", nil),
                ("malformed-utf8", "iso20022-malformed", nil),
                ("version-13", "iso20022-unsupported-message", "/Document"),
                ("version-7-json", "iso20022-unsupported-message", "/TxTp"),
                ("missing-IntrBkSttlmAmt-xml", "iso20022-missing-element", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"),
                ("missing-CdtrAcct-json", "iso20022-missing-element", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/CdtrAcct"),
            ]
            for (name, type, pointer) in expectations {
                let item = try #require(invalid[name])
                let (status, body, text) = try await client.execute(
                    uri: Self.route + "?perspective=sending", method: .post,
                    headers: headers(key: key, contentType: item.format == .xml ? "application/xml" : "application/json"), body: ByteBuffer(bytes: item.body)
                ) { ($0.status, object($0.body), String(buffer: $0.body)) }
                #expect(status == .badRequest, "\(name)")
                #expect(body["type"] as? String == "urn:vigil:problem:" + type, "\(name)")
                if let pointer { #expect((body["errors"] as? [[String: Any]])?.first?["pointer"] as? String == pointer, "\(name)") }
                #expect(!text.contains("passwd") && !text.contains("Alice") && !text.contains("lol"), "\(name)")
            }
            let unsupported = try await client.execute(
                uri: Self.route, method: .post, headers: headers(key: key, contentType: "text/plain"), body: Self.message(Self.payments(), format: .xml)
            ) { $0.status }
            #expect(unsupported == .unsupportedMediaType)
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("route=\"/v1/iso20022/pacs.008\""))
        }
    }

    @Test func noAccountNumberOrNameFromAMessageReachesLogsOrFiles() async throws {
        let dir = temporaryDataDirectory()
        let logs = LogCapture()
        let canaries = ["Zebedee Canarywick", "GB33BUKB20201555555555", "20201555555555", "12345678", "Bob Payee", "55779911"]
        try await withVigil(dataDirectory: dir, logs: logs) { client, key in
            for format in MessageFormat.allCases {
                let status = try await client.execute(
                    uri: Self.route + "?perspective=sending", method: .post,
                    headers: headers(key: key, contentType: format == .xml ? "application/xml" : "application/json"),
                    body: Self.message(Self.payments(debtorName: "Zebedee Canarywick", creditorIBAN: "GB33BUKB20201555555555"), format: format)
                ) { $0.status }
                #expect(status == .ok)
            }
        }
        let files = filesUnder(dir)
        #expect(files.contains { $0.path.hasSuffix(".log") && $0.bytes.count > 1000 }, "the event log holds the payments")
        #expect(logs.text.contains("Scored payment"))
        for canary in canaries {
            for file in files { #expect(file.bytes.range(of: Data(canary.utf8)) == nil, "\(canary) found in \(file.path)") }
            #expect(!logs.text.contains(canary), "\(canary) found in the logs")
        }
    }
}
