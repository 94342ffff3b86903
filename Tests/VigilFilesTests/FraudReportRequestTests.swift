import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilGateway

/// `POST /v1/fraud-reports` bodies: one report or a batch, read by the daily fraud-reports file's row rules.
struct FraudReportRequestTests {
    static let columns = [
        "paymentId", "uetr", "reportedAt", "fraudType", "amountLost", "currency", "reportingSide", "creditor.account.iban",
        "creditor.account.sortCode", "creditor.account.accountNumber", "creditor.account.scheme", "creditor.account.id",
    ]

    /// The same report as a JSON object, its cells placed where the API takes them.
    static func object(_ cells: [String: String]) -> [String: Any] {
        var object: [String: Any] = [:]
        var money: [String: Any] = [:]
        var account: [String: Any] = [:]
        for (column, value) in cells where !value.isEmpty {
            switch column {
            case "amountLost": money["amount"] = value
            case "currency": money["currency"] = value
            case let name where name.hasPrefix("creditor.account."): account[String(name.dropFirst("creditor.account.".count))] = value
            default: object[column] = value
            }
        }
        if !money.isEmpty { object["amountLost"] = money }
        if !account.isEmpty { object["creditorAccount"] = account }
        return object
    }

    static func decode(_ object: Any) -> Result<[ParsedFraudReport], RequestRejection> {
        FraudReportRequest.decode(Array(try! JSONSerialization.data(withJSONObject: object)))
    }

    static let good: [String: String] = ["paymentId": "p-1", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "app_scam"]

    /// One value per rule: the file and the API accept the same ones and give the same report, and refuse the same
    /// ones with the same words.
    @Test(arguments: [
        [:], ["uetr": "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"], ["uetr": "not-a-uuid"], ["paymentId": String(repeating: "x", count: 65)],
        ["reportedAt": "2026-11-23"], ["reportedAt": "2026-11-23T10:00:00+05:30"], ["fraudType": "phishing"], ["fraudType": "first_party"],
        ["amountLost": "12.50", "currency": "GBP"], ["amountLost": "12.505", "currency": "GBP"], ["amountLost": "0", "currency": "GBP"],
        ["amountLost": "5", "currency": "XXX"], ["reportingSide": "receiving"], ["reportingSide": "both"],
        ["creditor.account.iban": "GB82WEST12345698765432"], ["creditor.account.iban": "GB00WEST12345698765432"],
        ["creditor.account.sortCode": "404142", "creditor.account.accountNumber": "12345678"],
        ["creditor.account.sortCode": "40414", "creditor.account.accountNumber": "12345678"],
        ["creditor.account.scheme": "UPI", "creditor.account.id": "alice@bank"],
    ] as [[String: String]])
    func theAPIAndTheFileAcceptTheSameValues(change: [String: String]) throws {
        let cells = Self.good.merging(change) { $1 }
        let line = Self.columns.map { csvField(cells[$0] ?? "") }.joined(separator: ",")
        var parser = DailyFileParser(type: .fraudReports)
        var fromFile: ParsedFraudReport?
        try parser.feed(Array((Self.columns.joined(separator: ",") + "\n" + line + "\n").utf8)[...]) { _, row in
            if case .fraudReport(let report) = row { fromFile = report }
        }
        try parser.finish { _, _ in }
        switch Self.decode(Self.object(cells)) {
        case .success(let reports):
            #expect(reports == [fromFile].compactMap { $0 }, "\(change)")
        case .failure(.invalid(let errors)):
            #expect(fromFile == nil, "\(change)")
            #expect(errors.count == 1)
            #expect(errors.first?.detail == parser.rowErrors.first?.reason, "\(change)")
        case .failure(let other):
            Issue.record("\(other)")
        }
    }

    @Test func aBatchIsCheckedWholeWithPointersIntoIt() throws {
        let result = Self.decode(["reports": [
            Self.object(Self.good),
            ["reportedAt": 5, "fraudType": "mule", "paymentId": ""],
            ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "creditorAccount": ["iban": "GB82WEST12345698765432", "bic": "X"]],
            ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "amountLost": "12.00"],
        ]])
        guard case .failure(.invalid(let errors)) = result else {
            Issue.record("\(result)")
            return
        }
        #expect(Set(errors.map(\.pointer)) == ["/reports/1/reportedAt", "/reports/1/paymentId", "/reports/2/creditorAccount/bic", "/reports/3/amountLost"])
        #expect(Set(errors.map(\.detail)) == ["Must be a string.", "Must not be empty.", "Unknown field; allowed fields are accountNumber, iban, id, scheme, sortCode.", "Must be an object."] as Set)
    }

    @Test func theShapesOfTheBody() throws {
        #expect(try Self.decode(Self.object(Self.good)).get().count == 1)
        #expect(try Self.decode(["reports": Array(repeating: Self.object(Self.good), count: FraudReportRequest.maxReports)]).get().count == FraudReportRequest.maxReports)
        // A null member is an absent one, as an empty cell is.
        #expect(try Self.decode(Self.object(Self.good).merging(["uetr": NSNull()]) { $1 }).get().first?.uetr == nil)
        for (body, pointer) in [
            (["reports": [Any]()] as [String: Any], "/reports"),
            (["reports": "x"], "/reports"),
            (["reports": Array(repeating: Self.object(Self.good), count: FraudReportRequest.maxReports + 1)], "/reports"),
            (["reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule"], "/paymentId"),
            (Self.object(Self.good).merging(["creditorAccount": [String: Any]()]) { $1 }, "/creditorAccount"),
            (Self.object(Self.good).merging(["amountLost": ["amount": NSNull()]]) { $1 }, "/amountLost"),
        ] {
            guard case .failure(.invalid(let errors)) = Self.decode(body) else {
                Issue.record("\(pointer) accepted")
                continue
            }
            #expect(errors.map(\.pointer).contains(pointer))
        }
        guard case .failure(.invalid(let errors)) = Self.decode(["reports": [Self.object(Self.good)], "tenant": "other"]) else {
            Issue.record("a batch with another member was accepted")
            return
        }
        #expect(errors.map(\.pointer) == ["/tenant"])
        guard case .failure(.malformedJSON) = FraudReportRequest.decode(Array("[1]".utf8)) else {
            Issue.record("an array body was accepted")
            return
        }
    }
}
