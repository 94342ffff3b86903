import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilGateway

/// What parsing a file gave: each row's number and description, the errors, the counts, or the refusal.
struct Parsed: Equatable {
    var rows: [String] = []
    var errors: [RowError] = []
    var accepted = 0
    var rejected = 0
    var refusal: FileRefusal?
}

/// Parses `bytes` as `type`, fed in chunks of `chunk` bytes (the whole file at once when nil).
func parse(_ type: DailyFileType, _ bytes: [UInt8], chunk: Int? = nil) -> Parsed {
    var parser = DailyFileParser(type: type)
    var parsed = Parsed()
    let collect: (Int, ParsedRow) throws -> Void = { parsed.rows.append("\($0) \($1)") }
    do {
        let size = max(1, chunk ?? bytes.count)
        var start = 0
        while start < bytes.count {
            try parser.feed(bytes[start..<min(start + size, bytes.count)], collect)
            start += size
        }
        try parser.finish(collect)
    } catch let refusal as FileRefusal {
        parsed.refusal = refusal
    } catch {
        Issue.record("unexpected error \(error)")
    }
    parsed.errors = parser.rowErrors
    parsed.accepted = parser.accepted
    parsed.rejected = parser.rejected
    return parsed
}

func parse(_ type: DailyFileType, _ text: String, chunk: Int? = nil) -> Parsed { parse(type, Array(text.utf8), chunk: chunk) }

let historyHeader = "paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.name,debtor.account.iban,creditor.account.sortCode,creditor.account.accountNumber,reference\n"

func historyRow(_ id: String, amount: String = "10.00", name: String = "Zoë Canary", reference: String = "rent") -> String {
    "\(id),sending,push,FPS,\(amount),GBP,2026-01-01T10:00:00Z,\(name),GB82WEST12345698765432,404142,12345678,\(reference)\n"
}

struct FormatsParserTests {
    // MARK: common rules

    @Test func readsHistoryRowsWithTheAPIsValidation() {
        let parsed = parse(.history, historyHeader + historyRow("a") + historyRow("b", amount: "0.00") + historyRow("c"))
        #expect(parsed.refusal == nil)
        #expect(parsed.accepted == 2 && parsed.rejected == 1)
        #expect(parsed.rows.map { $0.prefix(2) } == ["2 ", "4 "])
        #expect(parsed.errors == [RowError(row: 3, column: "amount", reason: "Must be greater than zero.")])
    }

    @Test func historyTakesTheUETRColumn() throws {
        var request: PaymentRequest?
        var parser = DailyFileParser(type: .history)
        let text = "paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.account.iban,creditor.account.iban,uetr\n"
            + "a,sending,push,FPS,1.00,GBP,2026-01-01T10:00:00Z,GB82WEST12345698765432,GB82WEST12345698765432,7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\n"
        try parser.feed(Array(text.utf8)[...]) { _, row in
            if case .history(let r) = row { request = r }
        }
        try parser.finish { _, _ in }
        #expect(request?.uetr == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    }

    @Test func feedingOneByteAtATimeGivesTheSameAsTheWholeFile() {
        // Multi-byte characters, a quoted cell with a comma, a doubled quote and a line break, CRLF endings, a bad row.
        let text = historyHeader.replacingOccurrences(of: "\n", with: "\r\n")
            + historyRow("a", name: "\"Zoë, \"\"the\"\" 🦊 Canary\"").replacingOccurrences(of: "\n", with: "\r\n")
            + historyRow("b", reference: "\"two\nlines\"").replacingOccurrences(of: "\n", with: "\r\n")
            + historyRow("c", reference: "ünïcödé").replacingOccurrences(of: "\n", with: "\r\n")
        let whole = parse(.history, text)
        #expect(whole.accepted == 2 && whole.rejected == 1 && whole.refusal == nil)
        #expect(whole.rows.first?.contains("Zoë, \\\"the\\\" 🦊 Canary") == true)
        #expect(whole.errors == [RowError(row: 3, column: "reference", reason: "Must not contain control characters.")])
        for size in [1, 2, 3, 7, 64] {
            #expect(parse(.history, text, chunk: size) == whole, "chunks of \(size)")
        }
        #expect(parse(.history, historyHeader + historyRow("a") + "x", chunk: 1) == parse(.history, historyHeader + historyRow("a") + "x"))
    }

    @Test func refusesAByteOrderMarkEvenSplitAcrossChunks() {
        let text = "\u{FEFF}" + historyHeader + historyRow("a")
        for chunk in [nil, 1, 2] {
            #expect(parse(.history, text, chunk: chunk).refusal == FileRefusal("the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"))
        }
        #expect(parse(.history, historyHeader + historyRow("a", name: "\u{FEFF}x")).refusal == nil)
    }

    @Test func refusesInvalidUTF8NamingTheRow() {
        var bytes = Array((historyHeader + historyRow("a")).utf8)
        bytes += Array(historyRow("b", name: "Zo#").utf8).map { $0 == UInt8(ascii: "#") ? 0xC3 : $0 }
        #expect(parse(.history, bytes).refusal == FileRefusal("row 3 is not valid UTF-8; save the file as UTF-8"))
        // A character split by a comma is two bad cells, not a good one.
        let split = Array((historyHeader + "a,sending,push,FPS,1.00,GBP,2026-01-01T10:00:00Z,Zo").utf8) + [0xC3, UInt8(ascii: ","), 0xAB]
            + Array(",404142,12345678,x\n".utf8)
        #expect(parse(.history, split).refusal?.reason.hasPrefix("row 2 is not valid UTF-8") == true)
    }

    @Test func refusesMixedLineEndingsNamingTheFirstRowThatDiffers() {
        let text = historyHeader + historyRow("a") + historyRow("b").replacingOccurrences(of: "\n", with: "\r\n")
        let expected = FileRefusal("row 3 ends with CRLF where the rows before it end with LF; use one line ending throughout")
        #expect(parse(.history, text).refusal == expected)
        #expect(parse(.history, text, chunk: 1).refusal == expected)
        let crlfFirst = historyHeader.replacingOccurrences(of: "\n", with: "\r\n") + historyRow("a")
        #expect(parse(.history, crlfFirst).refusal?.reason.hasPrefix("row 2 ends with LF where the rows before it end with CRLF") == true)
        #expect(parse(.history, historyHeader + "a\rb\n").refusal?.reason.hasPrefix("row 2 has a carriage return (CR) not followed") == true)
    }

    @Test func refusesATruncatedLastRow() {
        var text = historyHeader + historyRow("a") + historyRow("b")
        text.removeLast()
        #expect(parse(.history, text).refusal == FileRefusal("the last row (row 3) does not end with a line ending: the file looks truncated; send it again whole"))
        #expect(parse(.history, historyHeader + historyRow("a") + "\"open quote\n").refusal?.reason.hasPrefix("the last row (row 3)") == true)
        var crlf = (historyHeader + historyRow("a")).replacingOccurrences(of: "\n", with: "\r\n")
        crlf.removeLast()
        #expect(parse(.history, crlf).refusal?.reason.hasPrefix("the last row (row 2)") == true)
    }

    @Test func aRunawayQuotedCellIsRefusedInsteadOfHeldWhole() throws {
        var parser = DailyFileParser(type: .history)
        try parser.feed(Array((historyHeader + "a,\"").utf8)[...]) { _, _ in }
        let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        var refusal: FileRefusal?
        for _ in 0..<32 where refusal == nil {
            do {
                try parser.feed(block[...]) { _, _ in }
            } catch let error as FileRefusal {
                refusal = error
            }
        }
        #expect(refusal?.reason == "row 2 is longer than 1048576 bytes; is a quoted cell left open?")
    }

    @Test func refusesAnEmptyFileAndAHeaderOnlyFile() {
        #expect(parse(.history, "").refusal == FileRefusal("the file is empty (0 bytes): it has no rows"))
        #expect(parse(.fraudReports, "paymentId,reportedAt,fraudType\n").refusal == FileRefusal("the file has a header but no rows"))
    }

    @Test func refusesHeaderProblemsByColumnName() {
        #expect(parse(.fraudReports, "paymentId,reportedAt,fraudType,note\n").refusal?.reason.hasPrefix(
            "the header has unknown column(s) 'note' for a fraud-reports file"
        ) == true)
        #expect(parse(.fraudReports, "paymentId,fraudType\n").refusal?.reason == "the header lacks the required column(s) 'reportedAt' of a fraud-reports file")
        #expect(parse(.fraudReports, "paymentId,reportedAt,fraudType,paymentId\n").refusal?.reason == "the header names the column 'paymentId' twice")
        #expect(parse(.fraudReports, "reportedAt,fraudType\n").refusal?.reason.hasPrefix("the header needs at least one of the columns 'paymentId', 'uetr'") == true)
        #expect(parse(.fraudReports, "paymentId,reportedAt,fraudType,amountLost\n").refusal?.reason == "the header has 'amountLost' without 'currency'; give both columns or neither")
        #expect(parse(.fraudReports, "PaymentId,reportedAt,fraudType\n").refusal != nil, "column names are case-sensitive")
        #expect(parse(.history, "paymentId,perspective\n").refusal?.reason.hasPrefix("the history header lacks the required column(s) 'type'") == true)
        #expect(parse(.history, "paymentId,perspective,bogus\n").refusal?.reason.hasPrefix("the header has unknown column(s) 'bogus' for a history file") == true)
    }

    @Test func rowErrorsNeverCarryTheCellsValue() {
        let canary = "GB00CANARY0000000000"
        let text = historyHeader + historyRow("a").replacingOccurrences(of: "GB82WEST12345698765432", with: canary)
            + historyRow("b", amount: "12.345", name: String(repeating: "N", count: 141))
            + "c,sending,push,FPS,1.00,GBP,2026-01-01T10:00:00Z,bad\"quote,GB82WEST12345698765432,404142,12345678,r\n"
            + "short,row\n" + "\n"
        let parsed = parse(.history, text)
        #expect(parsed.errors.map(\.row) == [2, 3, 4, 5, 6])
        #expect(parsed.errors[4] == RowError(row: 6, column: nil, reason: "an empty row; remove blank lines"))
        #expect(parsed.errors[0] == RowError(row: 2, column: "debtor.account.iban", reason: "Must be an upper-case IBAN without spaces whose mod-97 check digits are correct."))
        #expect(parsed.errors[2].column == nil && parsed.errors[2].reason.hasPrefix("a double quote inside an unquoted cell"))
        #expect(parsed.errors[3] == RowError(row: 5, column: nil, reason: "expected 12 cells, found 2"))
        for error in parsed.errors {
            #expect(!error.reason.contains("CANARY") && !error.reason.contains("NNN") && !error.reason.contains("12.345") && !error.reason.contains("short"))
        }
    }

    @Test func keepsTheFirstThousandRowErrorsAndCountsThemAll() {
        let text = historyHeader + String(repeating: historyRow("x", amount: "0"), count: 1_205) + historyRow("ok")
        let parsed = parse(.history, text)
        #expect(parsed.rejected == 1_205 && parsed.accepted == 1)
        #expect(parsed.errors.count == 1_000)
        #expect(parsed.errors.last?.row == 1_001)
    }

    @Test func theErrorThresholdIsAShareOfTheRowsRead() throws {
        var parser = DailyFileParser(type: .history)
        try parser.feed(Array((historyHeader + String(repeating: historyRow("a"), count: 99) + historyRow("b", amount: "0")).utf8)[...]) { _, _ in }
        try parser.finish { _, _ in }
        #expect(!parser.exceedsErrorThreshold(0.01))
        #expect(parser.exceedsErrorThreshold(0.009))
    }

    @Test func aRowCallbacksErrorStopsTheFileAndIsRethrown() {
        struct Stop: Error {}
        var parser = DailyFileParser(type: .history)
        #expect(throws: Stop.self) {
            try parser.feed(Array((historyHeader + historyRow("a") + historyRow("b")).utf8)[...]) { _, _ in throw Stop() }
        }
        #expect(parser.accepted == 0)
    }

    @Test func historyHonoursTheReadersMapping() throws {
        let reader = HistoryReader(mapping: ColumnMapping(["amount": "AMT"], constants: ["perspective": "sending"]), timeFormat: .epochSeconds)
        var parser = DailyFileParser(type: .history, history: reader)
        var rows: [PaymentRequest] = []
        let text = "paymentId,type,scheme,AMT,currency,createdAt,debtor.account.iban,creditor.account.iban\n"
            + "a,push,FPS,3.00,GBP,1767261600,GB82WEST12345698765432,GB82WEST12345698765432\n"
        try parser.feed(Array(text.utf8)[...]) { _, row in if case .history(let r) = row { rows.append(r) } }
        try parser.finish { _, _ in }
        #expect(rows.map(\.perspective) == [.sending])
        #expect(rows.map(\.createdAt.rfc3339UTC) == ["2026-01-01T10:00:00.000Z"])
    }
}
