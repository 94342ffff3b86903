import Foundation
import Testing
import VigilDomain
import VigilGateway

let header = "paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.account.iban,creditor.account.sortCode,creditor.account.accountNumber,debtor.agent"

func history(_ rows: [String], header: String = header) -> [UInt8] {
    Array(([header] + rows).joined(separator: "\n").utf8)
}

func row(_ id: String, amount: String = "10.00", at time: String = "2026-01-01T10:00:00Z", iban: String = "GB82WEST12345698765432") -> String {
    "\(id),sending,push,FPS,\(amount),GBP,\(time),\(iban),404142,12345678,NWBKGB2L"
}

struct HistoryReaderTests {
    @Test func readsValidRows() throws {
        let (rows, summary) = try HistoryReader().read(history([row("a"), row("b", amount: "20.50")]))
        #expect(rows.map(\.request.paymentId) == ["a", "b"])
        #expect(rows[1].request.amount.minorUnits == 2050)
        #expect(rows[1].line == 3)
        #expect(summary.read == 2 && summary.accepted == 2 && summary.rejectedCount == 0)
    }

    @Test func anEmptyFileIsAFileError() {
        #expect(throws: FileError.self) { try HistoryReader().read([]) }
    }

    @Test func aHeaderOnlyFileHasNoRows() throws {
        let (rows, summary) = try HistoryReader().read(history([]))
        #expect(rows.isEmpty)
        #expect(summary.read == 0)
    }

    @Test func aMissingRequiredColumnIsNamed() {
        let error = #expect(throws: FileError.self) {
            try HistoryReader().read(history([], header: "paymentId,perspective,type,scheme,amount,currency"))
        }
        #expect(error?.description.contains("'createdAt'") == true)
    }

    @Test func badRowsAreCountedByReasonWithTheirLines() throws {
        let (rows, summary) = try HistoryReader().read(history([
            row("good"),
            row("neg", amount: "-1.00"),
            row("iban", iban: "GB00WEST12345698765432"),
            row("time", at: "yesterday"),
            "short,sending",
            row("neg2", amount: "0"),
        ]))
        #expect(rows.map(\.request.paymentId) == ["good"])
        #expect(summary.read == 6 && summary.accepted == 1 && summary.rejectedCount == 5)
        #expect(summary.rejected["amount: Must be greater than zero."] == 1)
        #expect(summary.rejected["amount: Must be a positive decimal string such as \"250.00\"."] == 1)
        #expect(summary.examples.map(\.line) == [3, 4, 5, 6, 7])
        #expect(summary.examples[1].reason.hasPrefix("debtor.account.iban"))
        #expect(summary.examples[3].reason == "expected 11 cells, found 2")
        #expect(summary.report(name: "h.csv").contains("6 row(s) read, 1 accepted, 5 rejected"))
    }

    @Test func mapsOtherColumnNames() throws {
        let theirs = header.replacingOccurrences(of: "amount", with: "AMT").replacingOccurrences(of: "createdAt", with: "ts")
        let mapping = try ColumnMapping(parsing: "amount=AMT,createdAt=ts")
        let (rows, _) = try HistoryReader(mapping: mapping).read(history([row("a")], header: theirs))
        #expect(rows.count == 1)
        #expect(throws: FileError.self) { try ColumnMapping(parsing: "amount") }
        #expect(throws: FileError.self) { try HistoryReader(mapping: ColumnMapping(["amountt": "x"])).read(history([row("a")])) }
    }

    @Test func convertsOtherTimeAndAmountForms() throws {
        let epoch = try HistoryReader(timeFormat: .epochSeconds).read(history([row("a", at: "1795339800")])).rows
        #expect(epoch.first?.request.createdAt == Instant(rfc3339: "2026-11-22T09:30:00Z"))
        let dmy = try HistoryReader(timeFormat: .dayMonthYear, utcOffset: "+01:00").read(history([row("a", at: "22/11/2026 10:30")])).rows
        #expect(dmy.first?.request.createdAt.epochMillis == Instant(rfc3339: "2026-11-22T09:30:00Z")?.epochMillis)
        #expect(dmy.first?.request.createdAt.localHour == 10)
        let minor = try HistoryReader(amountFormat: .minorUnits).read(history([row("a", amount: "1234")])).rows
        #expect(minor.first?.request.amount.minorUnits == 1234)
        let comma = try HistoryReader(amountFormat: .decimalComma).read(history([row("a", amount: "\"12,50\"")])).rows
        #expect(comma.first?.request.amount.minorUnits == 1250)
        let bad = try HistoryReader(timeFormat: .epochSeconds).read(history([row("a", at: "2026-01-01")]))
        #expect(bad.summary.rejected == ["createdAt: not a epoch-seconds time": 1])
    }

    @Test func quotedFieldsAndCRLFAreRead() throws {
        let text = header + "\r\n" + "\"a,1\",sending,push,FPS,\"10.00\",GBP,2026-01-01T10:00:00Z,GB82WEST12345698765432,404142,12345678,NWBKGB2L\r\n"
        let (rows, summary) = try HistoryReader().read(Array(text.utf8))
        #expect(rows.first?.request.paymentId == "a,1")
        #expect(summary.accepted == 1)
    }
}

struct LabelReaderTests {
    @Test func readsLabelsAndReportsBadOnes() throws {
        let text = """
            paymentId,reportedAt,fraudType
            a,2026-01-03T00:00:00Z,app_scam
            b,2026-01-04T00:00:00Z,phishing
            c,soon,mule
            a,2026-01-02T00:00:00Z,app_scam
            """
        let (labels, summary) = try LabelReader().read(Array(text.utf8))
        #expect(labels.count == 1)
        #expect(labels["a"]?.reportedAt == Instant(rfc3339: "2026-01-02T00:00:00Z"))
        #expect(summary.read == 4 && summary.accepted == 1 && summary.rejectedCount == 3)
        #expect(summary.examples.map(\.line) == [3, 4, 5])
    }

    @Test func aMissingColumnIsAFileError() {
        #expect(throws: FileError.self) { try LabelReader().read(Array("paymentId,when\n".utf8)) }
    }
}

struct HistoryImportMappingTests {
    let paysimHeader = "step,type,amount,nameOrig,nameDest,isFraud,scheme,currency"

    func paysim(_ step: String, _ id: String, isFraud: String) -> String {
        "\(step),push,10.00,\(id),GB82WEST12345698765432,\(isFraud),FPS,GBP"
    }

    var mapping: ColumnMapping {
        get throws {
            try ColumnMapping(parsing: "createdAt=step,paymentId=nameOrig,perspective=const:sending,creditor.account.iban=nameDest,debtor.account.scheme=const:PAYSIM,debtor.account.id=nameOrig")
        }
    }

    @Test func aConstantColumnNeedNotExistAndCountsAsPresent() throws {
        let mapping = try self.mapping
        #expect(mapping.constants == ["perspective": "sending", "debtor.account.scheme": "PAYSIM"])
        let reader = HistoryReader(mapping: mapping, timeFormat: .hoursSince(Instant(rfc3339: "2026-01-01T00:00:00Z")!))
        let (rows, summary) = try reader.read(history([paysim("1", "C1", isFraud: "0"), paysim("2.5", "C2", isFraud: "1")], header: paysimHeader))
        #expect(summary.accepted == 2)
        #expect(rows.map(\.request.perspective) == [.sending, .sending])
        #expect(rows.map(\.request.debtor.account) == [.scheme(scheme: "PAYSIM", id: "C1"), .scheme(scheme: "PAYSIM", id: "C2")])
        #expect(throws: FileError.self) { try ColumnMapping(parsing: "perspective=const:") }
        #expect(throws: FileError.self) { try ColumnMapping(parsing: "perspective=const:sending,perspective=p") }
        #expect(throws: FileError.self) { try HistoryReader(mapping: ColumnMapping(parsing: "bogus=const:1")).read(history([row("a")])) }
    }

    @Test func hoursAndDaysSinceAStart() throws {
        let start = Instant(rfc3339: "2026-01-01T00:00:00Z")!
        #expect(try TimeFormat(parsing: "hours-since:2026-01-01T00:00:00Z") == .hoursSince(start))
        #expect(try TimeFormat(parsing: "days-since:2026-01-01T00:00:00Z") == .daysSince(start))
        #expect(throws: FileError.self) { try TimeFormat(parsing: "hours-since:yesterday") }
        #expect(throws: FileError.self) { try TimeFormat(parsing: "weeks-since:2026-01-01T00:00:00Z") }
        let hours = try HistoryReader(timeFormat: .hoursSince(start)).read(history([row("a", at: "1.5"), row("b", at: "-1"), row("c", at: "1e3"), row("d", at: "0")]))
        #expect(hours.rows.map(\.request.createdAt.rfc3339UTC) == ["2026-01-01T01:30:00.000Z", "2026-01-01T00:00:00.000Z"])
        #expect(hours.summary.rejected == ["createdAt: not a hours-since time": 2])
        let days = try HistoryReader(timeFormat: .daysSince(start)).read(history([row("a", at: "31.25")]))
        #expect(days.rows.map(\.request.createdAt.rfc3339UTC) == ["2026-02-01T06:00:00.000Z"])
        #expect(try HistoryReader(timeFormat: .daysSince(start)).read(history([row("a", at: "99999999")])).summary.accepted == 0)
    }

    @Test func labelsFromAColumnOfTheHistory() throws {
        let reader = HistoryReader(mapping: try mapping, timeFormat: .hoursSince(Instant(rfc3339: "2026-01-01T00:00:00Z")!), labelColumn: "isFraud")
        let rows = [
            paysim("1", "C1", isFraud: "1"), paysim("1", "C2", isFraud: "TRUE"), paysim("1", "C3", isFraud: "Yes"), paysim("1", "C4", isFraud: "0"),
            paysim("1", "C5", isFraud: "no"), paysim("1", "C6", isFraud: ""), paysim("1", "C7", isFraud: "maybe"),
        ]
        let (read, summary) = try reader.read(history(rows, header: paysimHeader))
        #expect(read.map(\.isFraud) == [true, true, true, false, false, false])
        #expect(summary.rejected == ["isFraud: must be 1, true, yes, 0, false, no or empty": 1])
        #expect(throws: FileError.self) {
            try HistoryReader(mapping: self.mapping, labelColumn: "fraud").read(history(rows, header: paysimHeader))
        }
        #expect(try HistoryReader().read(history([row("a")])).rows.first?.isFraud == nil)
    }
}
