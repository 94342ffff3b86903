import Testing
import VigilJSON

@testable import VigilGateway

/// A history row becomes the same JSON object the API would receive, so one reader validates both.
struct HistoryReaderBodyTests {
    @Test func insertBuildsNestedObjectsInColumnOrder() throws {
        var body: FieldReader.Object = []
        for (path, value) in [
            ("paymentId", "p1"), ("debtor.name", "A"), ("debtor.account.sortCode", "404142"),
            ("debtor.account.accountNumber", "12345678"), ("creditor.account.iban", "GB82WEST12345698765432"),
            ("debtor.agent", "NWBKGB2L"), ("device.ip", "203.0.113.9"),
        ] {
            HistoryReader.insert(value, at: path.split(separator: ".").map(String.init)[...], into: &body)
        }
        let expected = try JSONParser.parse(Array(#"""
            {"paymentId":"p1","debtor":{"name":"A","account":{"sortCode":"404142","accountNumber":"12345678"},
             "agent":"NWBKGB2L"},"creditor":{"account":{"iban":"GB82WEST12345698765432"}},"device":{"ip":"203.0.113.9"}}
            """#.utf8))
        #expect(JSONValue.object(body) == expected)
    }

    @Test func insertingAPathTwiceKeepsOneMember() {
        var body: FieldReader.Object = []
        HistoryReader.insert("x", at: ["a", "b"], into: &body)
        HistoryReader.insert("y", at: ["a", "b"], into: &body)
        HistoryReader.insert("z", at: ["a", "c"], into: &body)
        #expect(JSONValue.object(body) == .object([JSONValue.Member(key: "a", value: .object([JSONValue.Member(key: "b", value: .string("y")), JSONValue.Member(key: "c", value: .string("z"))]))]))
    }
}
