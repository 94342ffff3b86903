import Foundation
import Testing
import VigilReporting

struct UsageReportFormatTests {
    @Test func csvHasAHeaderAndOneRecordPerTenantDayWithCRLF() {
        let csv = UsageAggregatorTests.report().csv()
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == "tenant,day,scored,sending,receiving,allow,review,block,duplicates,billable_units,p50_micros,p99_micros,rule_firings")
        #expect(lines[1] == "bank-a,2026-03-31,10,7,3,7,2,1,2,10,50,100,large-amount=3;new-payee=1")
        #expect(lines[3] == "bank-b,2026-03-31,0,0,0,0,0,0,1,0,,,")
        #expect(lines.count == 6 && lines.last == "")
    }

    @Test func csvQuotesFieldsThatNeedIt() {
        var row = TenantDayUsage(tenant: "bank-a", day: UsageAggregatorTests.march31)
        row.scored = 1
        row.ruleFirings = ["say \"hi\", then": 1]
        let report = UsageReport(from: UsageAggregatorTests.march31, to: UsageAggregatorTests.march31, tenant: nil, days: [row])
        #expect(report.csv().hasSuffix(",\"say \"\"hi\"\", then=1\"\r\n"))
    }

    @Test func monthlyCSVHasOneRecordPerTenantMonth() {
        #expect(UsageAggregatorTests.report().monthlyCSV() == """
            tenant,month,billable_units,scored,duplicates\r
            bank-a,2026-03,10,10,2\r
            bank-a,2026-04,1,1,1\r
            bank-b,2026-03,0,0,1\r
            bank-b,2026-04,2,2,0\r

            """)
    }

    @Test func jsonIsOneDocumentWithTheDocumentedShape() throws {
        let text = UsageAggregatorTests.report(tenant: "bank-a").json()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["schema"] as? String == "vigil.report.v1")
        #expect(document["from"] as? String == "2026-03-31")
        #expect(document["to"] as? String == "2026-04-01")
        #expect(document["tenant"] as? String == "bank-a")
        let days = try #require(document["days"] as? [[String: Any]])
        #expect(days.count == 2)
        let first = days[0]
        #expect(first["day"] as? String == "2026-03-31")
        #expect(first["scored"] as? Int == 10)
        #expect(first["perspectives"] as? [String: Int] == ["sending": 7, "receiving": 3])
        #expect(first["decisions"] as? [String: Int] == ["allow": 7, "review": 2, "block": 1])
        #expect(first["duplicates"] as? Int == 2)
        #expect(first["billableUnits"] as? Int == 10)
        #expect(first["processingMicros"] as? [String: Int] == ["p50": 50, "p99": 100])
        #expect(first["ruleFirings"] as? [String: Int] == ["large-amount": 3, "new-payee": 1])
        let all = try #require(try JSONSerialization.jsonObject(with: Data(UsageAggregatorTests.report().json().utf8)) as? [String: Any])
        #expect(all["tenant"] is NSNull)
        let onlyDuplicates = try #require((all["days"] as? [[String: Any]])?[2]["processingMicros"] as? [String: Any])
        #expect(onlyDuplicates["p50"] is NSNull && onlyDuplicates["p99"] is NSNull)
    }

    @Test func markdownIsATableAndSaysWhenTheRangeIsEmpty() {
        let markdown = UsageAggregatorTests.report().markdown()
        #expect(markdown.hasPrefix("# Vigil usage, 2026-03-31 to 2026-04-01 (UTC)\n"))
        #expect(markdown.contains("| bank-a | 2026-03-31 | 10 | 7 | 3 | 7 | 2 | 1 | 2 | 10 | 50 | 100 | large-amount=3;new-payee=1 |\n"))
        let empty = UsageReport(from: UsageAggregatorTests.march31, to: UsageAggregatorTests.march31, tenant: nil, days: [])
        #expect(empty.markdown().hasSuffix("\nNo events in this range.\n"))
        #expect(empty.csv() == UsageReport.csvColumns.joined(separator: ",") + "\r\n")
        #expect(empty.json().contains("\"days\":[]"))
    }
}
