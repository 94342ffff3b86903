import Foundation
import Testing
import VigilDomain
import VigilGateway

struct PaymentRequestDecoderTests {
    let decoder = PaymentRequestDecoder()

    func errors(_ body: [UInt8]) -> [FieldError] {
        if case .failure(.invalid(let errors)) = decoder.decode(body) { return errors }
        return []
    }

    func pointers(_ mutate: (inout [String: Any]) -> Void) -> [String] {
        var body = validBody()
        mutate(&body)
        return errors(encoded(body)).map(\.pointer)
    }

    @Test func acceptsAValidPayment() throws {
        let request = try decoder.decode(encoded(validBody())).get()
        #expect(request.amount.minorUnits == 25000)
        #expect(request.debtor.account == .ukDomestic(sortCode: "404142", accountNumber: "12345678"))
        #expect(request.creditor.account == .iban("GB82WEST12345698765432"))
        #expect(request.confirmationOfPayee == .noMatch)
        #expect(request.ip == "203.0.113.9")
    }

    @Test func aUETRIsAUUIDKeptLowerCase() throws {
        var body = validBody()
        body["uetr"] = "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
        #expect(try decoder.decode(encoded(body)).get().uetr == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        for bad in ["7a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", "", "x"] {
            #expect(pointers { $0["uetr"] = bad } == ["/uetr"], "\(bad)")
        }
        #expect(pointers { $0["uetr"] = 42 } == ["/uetr"])
        #expect(try decoder.decode(encoded(validBody())).get().uetr == nil)
    }

    @Test func acceptsTheMinimalForm() throws {
        var body = validBody()
        for key in ["channel", "payee", "device", "reference"] { body[key] = nil }
        body["debtor"] = ["account": ["scheme": "PIX", "id": "+5511999999999"]]
        #expect(throws: Never.self) { try decoder.decode(encoded(body)).get() }
    }

    /// The fixture's `createdAt` (2026-11-22T09:30:00Z) as the server's clock.
    static let fixtureTime = Instant(rfc3339: "2026-11-22T09:30:00Z")!

    @Test(arguments: [
        ("2099-01-01T00:00:00Z", false), ("2026-11-22T09:35:00.001Z", false), ("2026-11-22T10:35:00.001+01:00", false),
        ("2026-11-22T09:35:00Z", true), ("2026-11-22T09:30:00Z", true), ("2020-01-01T00:00:00Z", true),
    ])
    func aCreatedAtTooFarAheadOfTheServersClockIsAFieldError(createdAt: String, accepted: Bool) {
        var body = validBody()
        body["createdAt"] = createdAt
        let result = decoder.decode(encoded(body), receivedAt: Self.fixtureTime)
        switch result {
        case .success: #expect(accepted)
        case .failure(.invalid(let errors)):
            #expect(!accepted)
            #expect(errors.map(\.pointer) == ["/createdAt"])
            #expect(errors.first?.detail == "Must not be more than 300 seconds ahead of the server's clock; check the sending system's clock.")
        case .failure(let other): Issue.record("unexpected \(other)")
        }
    }

    @Test func theSkewIsTheDecodersAndNoClockMeansNoBound() throws {
        var body = validBody()
        body["createdAt"] = "2026-11-22T09:31:00Z"
        let strict = PaymentRequestDecoder(bounds: CreatedAtBounds(skewSeconds: 0, lagSeconds: 60))
        guard case .failure(.invalid(let errors)) = strict.decode(encoded(body), receivedAt: Self.fixtureTime) else {
            Issue.record("expected a field error")
            return
        }
        #expect(errors.first?.detail.contains("0 seconds ahead") == true)
        body["createdAt"] = "2099-01-01T00:00:00Z"
        #expect(throws: Never.self) { try decoder.decode(encoded(body)).get() }
    }

    /// Every bad field is still reported at once, the clock among them.
    @Test func aFutureCreatedAtIsReportedWithTheOtherErrors() {
        var body = validBody()
        body["createdAt"] = "2099-01-01T00:00:00Z"
        body["amount"] = "0"
        guard case .failure(.invalid(let errors)) = decoder.decode(encoded(body), receivedAt: Self.fixtureTime) else {
            Issue.record("expected field errors")
            return
        }
        #expect(Set(errors.map(\.pointer)) == ["/amount", "/createdAt"])
    }

    @Test(arguments: ["{", "[1,2]", "\"text\"", "", "nul", "{\"a\":}", "{\"a\":NaN}", "{\"a\":1} x"])
    func refusesMalformedJSON(text: String) {
        guard case .failure(.malformedJSON) = decoder.decode(Array(text.utf8)) else {
            Issue.record("expected malformed JSON")
            return
        }
    }

    @Test func malformedJSONSaysWhereButNeverWhat() {
        let body = Array(#"{"paymentId": "CANARY-4411", "amount": "1.00" "#.utf8)
        guard case .failure(.malformedJSON(let detail)) = decoder.decode(body) else {
            Issue.record("expected malformed JSON")
            return
        }
        #expect(detail == "The body is not valid JSON: unexpected end of input at byte \(body.count).")
        #expect(!detail.contains("CANARY"))
        guard case .failure(.malformedJSON(let notAnObject)) = decoder.decode(Array(#"["CANARY-4411"]"#.utf8)) else {
            Issue.record("expected malformed JSON")
            return
        }
        #expect(notAnObject == "The body must be a JSON object.")
    }

    /// Parsers disagree on which of two equal keys wins, so a body that could be read two ways is refused.
    @Test func refusesAFieldGivenTwice() {
        var text = String(decoding: encoded(validBody()), as: UTF8.self)
        text.removeLast()
        text += #","amount":"9999.00"}"#
        guard case .failure(.malformedJSON(let detail)) = decoder.decode(Array(text.utf8)) else {
            Issue.record("expected malformed JSON")
            return
        }
        #expect(detail.hasPrefix("The body is not valid JSON: an object key appears twice at byte "))
        #expect(!detail.contains("9999"))
        let nested = #"{"debtor":{"account":{"iban":"GB82WEST12345698765432","iban":"DE89370400440532013000"}}}"#
        guard case .failure(.malformedJSON) = decoder.decode(Array(nested.utf8)) else {
            Issue.record("expected malformed JSON")
            return
        }
    }

    @Test func aNullFieldIsAMissingOne() {
        #expect(pointers { $0["channel"] = NSNull() } == [])
        #expect(pointers { $0["amount"] = NSNull() } == ["/amount"])
        #expect(errors(encoded(validBody().merging(["amount": NSNull()]) { $1 })).map(\.detail) == ["Required field is missing."])
        #expect(pointers { $0["debtor"] = NSNull() } == ["/debtor"])
        // A null member still names its account form.
        #expect(pointers { $0["creditor"] = ["account": ["iban": NSNull()]] } == ["/creditor/account/iban"])
        #expect(pointers { $0["creditor"] = ["account": ["iban": NSNull(), "id": "x"]] } == ["/creditor/account"])
    }

    @Test func reportsUnknownFieldsInKeyOrderWithEscapedPointers() {
        let found = errors(encoded(validBody().merging(["zeta": 1, "a/b": 2, "m~n": 3]) { $1 }))
        #expect(found.map(\.pointer) == ["/a~1b", "/m~0n", "/zeta"])
        #expect(found[0].detail.hasPrefix("Unknown field; allowed fields are amount, channel, createdAt, creditor, currency"))
    }

    @Test func countsCharactersNotBytes() {
        #expect(pointers { $0["reference"] = String(repeating: "é", count: 140) } == [])
        #expect(pointers { $0["reference"] = String(repeating: "👍🏽", count: 140) } == [])
        #expect(pointers { $0["reference"] = String(repeating: "é", count: 141) } == ["/reference"])
        #expect(pointers { $0["reference"] = "line\u{85}break" } == ["/reference"])
        #expect(pointers { $0["reference"] = "tab\there" } == ["/reference"])
        #expect(pointers { $0["reference"] = "del\u{7F}" } == ["/reference"])
        #expect(errors(encoded(validBody().merging(["reference": "a\r\nb"]) { $1 })).map(\.detail) == ["Must not contain control characters."])
    }

    /// Found by `FuzzPaymentRequest`: a 15-digit amount without a currency was checked at four decimals and trapped.
    @Test func refusesAHugeAmountWithoutACurrencyInsteadOfTrapping() {
        #expect(!errors(Array(#"{"amount":"999999999999999"}"#.utf8)).isEmpty)
        #expect(pointers { $0["currency"] = nil; $0["amount"] = "999999999999999" } == ["/currency"])
        #expect(pointers { $0["currency"] = "XYZ"; $0["amount"] = "1234567890123456" } == ["/currency", "/amount"])
        #expect(pointers { $0["currency"] = "CLF"; $0["amount"] = "999999999999999.9999" } == ["/amount"])
        #expect(pointers { $0["currency"] = "CLF"; $0["amount"] = "922337203685477.5807" } == [])
    }

    /// Found by `FuzzPaymentRequest`: `~` or `/` followed by a combining mark is one `Character`, and was left unescaped.
    @Test func escapesPointersScalarByScalar() {
        let found = errors(encoded(validBody().merging(["a~\u{301}b": 1, "c/\u{301}d": 2]) { $1 }))
        #expect(found.map(\.pointer) == ["/a~0\u{301}b", "/c~1\u{301}d"])
    }

    /// Found by `FuzzPaymentRequest`: year 0000 with a positive offset is year -1 in UTC, which `rfc3339UTC`
    /// cannot write, so an accepted request could not be exported and read back.
    @Test func refusesInstantsOutsideTheYearsRFC3339CanWriteInUTC() {
        #expect(pointers { $0["createdAt"] = "0000-01-01T00:00:00+01:00" } == ["/createdAt"])
        #expect(pointers { $0["createdAt"] = "9999-12-31T23:59:59-00:01" } == ["/createdAt"])
        #expect(pointers { $0["payee"] = ["firstSeenAt": "0000-01-01T00:59:59.999+01:00"] } == ["/payee/firstSeenAt"])
        #expect(pointers { $0["createdAt"] = "0000-01-01T00:00:00-01:00" } == [])
        #expect(pointers { $0["createdAt"] = "9999-12-31T23:59:59.999Z" } == [])
        #expect(pointers { $0["payee"] = ["firstSeenAt": "0000-01-01T01:00:00+01:00"] } == [])
    }

    @Test func pointsAtMissingFields() {
        #expect(pointers { $0["amount"] = nil } == ["/amount"])
        #expect(pointers { $0["debtor"] = nil } == ["/debtor"])
        #expect(pointers { $0["creditor"] = ["name": "x"] } == ["/creditor/account"])
        #expect(pointers { $0["creditor"] = ["account": [:]] } == ["/creditor/account"])
        #expect(pointers { $0["creditor"] = ["account": ["iban": "GB82WEST12345698765432", "sortCode": "123456"]] } == ["/creditor/account"])
    }

    @Test func pointsAtWrongTypes() {
        #expect(pointers { $0["amount"] = 250 } == ["/amount"])
        #expect(pointers { $0["paymentId"] = true } == ["/paymentId"])
        #expect(pointers { $0["debtor"] = "x" } == ["/debtor"])
    }

    @Test func refusesUnknownEnumValuesAndFields() {
        #expect(pointers { $0["perspective"] = "both" } == ["/perspective"])
        #expect(pointers { $0["type"] = "PUSH" } == ["/type"])
        #expect(pointers { $0["payee"] = ["confirmationOfPayee": "maybe"] } == ["/payee/confirmationOfPayee"])
        #expect(pointers { $0["ammount"] = "1.00" } == ["/ammount"])
    }

    @Test func checksIBANs() {
        #expect(pointers { $0["creditor"] = ["account": ["iban": "GB82WEST12345698765431"]] } == ["/creditor/account/iban"])
        #expect(pointers { $0["creditor"] = ["account": ["iban": "gb82west12345698765432"]] } == ["/creditor/account/iban"])
        #expect(pointers { $0["creditor"] = ["account": ["iban": "DE89370400440532013000"]] } == [])
        #expect(IBAN.isValid("FR1420041010050500013M02606"))
    }

    @Test func checksAmountsAndCurrencies() {
        #expect(pointers { $0["amount"] = "-1.00" } == ["/amount"])
        #expect(pointers { $0["amount"] = "0.00" } == ["/amount"])
        #expect(pointers { $0["amount"] = "1.001" } == ["/amount"])
        #expect(pointers { $0["currency"] = "XYZ" } == ["/currency"])
        #expect(pointers { $0["currency"] = "JPY"; $0["amount"] = "10.5" } == ["/amount"])
    }

    @Test func checksTimestampsAndIPs() {
        #expect(pointers { $0["createdAt"] = "22/11/2026 09:30" } == ["/createdAt"])
        #expect(pointers { $0["payee"] = ["firstSeenAt": "yesterday"] } == ["/payee/firstSeenAt"])
        #expect(pointers { $0["device"] = ["ip": "300.1.1.1"] } == ["/device/ip"])
        #expect(pointers { $0["device"] = ["ip": "2001:db8::1"] } == [])
    }

    @Test func reportsEveryBadFieldAtOnce() {
        let found = pointers {
            $0["amount"] = "abc"
            $0["currency"] = "ZZZ"
            $0["createdAt"] = "now"
            $0["perspective"] = nil
        }
        #expect(Set(found) == ["/amount", "/currency", "/createdAt", "/perspective"])
    }

    @Test func neverEchoesASubmittedValue() {
        let canary = "GB00CANARY0000000000001"
        var body = validBody()
        body["creditor"] = ["account": ["iban": canary], "name": String(repeating: "Zebedee", count: 30)]
        body["amount"] = "CANARY-AMOUNT"
        body["createdAt"] = "CANARY-TIME"
        let found = errors(encoded(body))
        #expect(found.count == 4)
        for error in found {
            #expect(!error.detail.contains("CANARY"))
            #expect(!error.detail.contains("Zebedee"))
        }
    }

    @Test func limitsLengths() {
        #expect(pointers { $0["paymentId"] = "" } == ["/paymentId"])
        #expect(pointers { $0["paymentId"] = String(repeating: "x", count: 65) } == ["/paymentId"])
        #expect(pointers { $0["paymentId"] = String(repeating: "x", count: 64) } == [])
        #expect(pointers { $0["reference"] = String(repeating: "r", count: 141) } == ["/reference"])
    }
}
