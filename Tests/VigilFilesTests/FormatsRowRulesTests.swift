import Testing
import VigilDomain
import VigilFiles
import VigilGateway

/// Parses a one-row file and returns its row, or its row error.
func one(_ type: DailyFileType, _ header: String, _ row: String) -> Result<ParsedRow, RowErrorBox> {
    var parser = DailyFileParser(type: type)
    var parsed: ParsedRow?
    do {
        try parser.feed(Array("\(header)\n\(row)\n".utf8)[...]) { _, row in parsed = row }
        try parser.finish { _, _ in }
    } catch {
        return .failure(RowErrorBox(error: RowError(row: 0, column: "refused", reason: "\(error)")))
    }
    if let parsed { return .success(parsed) }
    return .failure(RowErrorBox(error: parser.rowErrors[0]))
}

struct RowErrorBox: Error, Equatable { var error: RowError }

/// The row error's column and reason, or nil when the row was accepted.
func rowError(_ type: DailyFileType, _ header: String, _ row: String) -> RowError? {
    if case .failure(let box) = one(type, header, row) { return box.error }
    return nil
}

struct FormatsRowRulesTests {
    @Test func aPlainLabelsFileIsAFraudReportsFile() throws {
        let row = try one(.fraudReports, "paymentId,reportedAt,fraudType", "p-1,2026-01-05T00:00:00Z,mule").get()
        guard case .fraudReport(let report) = row else { Issue.record("not a report: \(row)"); return }
        #expect(report == ParsedFraudReport(paymentId: "p-1", uetr: nil, reportedAt: Instant(rfc3339: "2026-01-05T00:00:00Z")!, fraudType: .mule))
    }

    @Test func aFullFraudReport() throws {
        let header = "uetr,reportedAt,fraudType,amountLost,currency,reportingSide,creditor.account.sortCode,creditor.account.accountNumber"
        let row = try one(.fraudReports, header, "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D,2026-01-05T00:00:00Z,app_scam,250.50,GBP,receiving,404142,12345678").get()
        guard case .fraudReport(let report) = row else { Issue.record("not a report: \(row)"); return }
        #expect(report.uetr == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" && report.paymentId == nil)
        #expect(report.amountLost == Money(minorUnits: 25_050, currency: Currency(code: "GBP")!))
        #expect(report.reportingSide == .receiving)
        #expect(report.creditorAccount == .ukDomestic(sortCode: "404142", accountNumber: "12345678"))
        let token = Token(bytes: .init(repeating: 1, count: 32))
        #expect(report.report(creditorAccount: token).creditorAccount == token)
    }

    @Test(arguments: [
        ("paymentId,uetr,reportedAt,fraudType", ",,2026-01-05T00:00:00Z,mule", "paymentId", "A row needs a paymentId or a uetr."),
        ("paymentId,reportedAt,fraudType", "p,yesterday,mule", "reportedAt", "Must be an RFC 3339 date-time such as 2026-11-22T09:30:00Z."),
        ("paymentId,reportedAt,fraudType", "p,2026-01-05T00:00:00Z,scam", "fraudType", "Must be one of: app_scam, account_takeover, mule, first_party, other."),
        ("paymentId,reportedAt,fraudType", "p,,mule", "reportedAt", "Required field is missing."),
        ("paymentId,reportedAt,fraudType,amountLost,currency", "p,2026-01-05T00:00:00Z,mule,10.00,", "currency", "Required when amountLost is given."),
        ("paymentId,reportedAt,fraudType,amountLost,currency", "p,2026-01-05T00:00:00Z,mule,-1,GBP", "amountLost", "Must be a positive decimal string such as \"250.00\"."),
        ("paymentId,reportedAt,fraudType,reportingSide", "p,2026-01-05T00:00:00Z,mule,both", "reportingSide", "Must be one of: sending, receiving."),
        ("paymentId,reportedAt,fraudType,creditor.account.iban", "p,2026-01-05T00:00:00Z,mule,GB00BAD", "creditor.account.iban",
         "Must be an upper-case IBAN without spaces whose mod-97 check digits are correct."),
        ("paymentId,reportedAt,fraudType,creditor.account.iban,creditor.account.scheme,creditor.account.id",
         "p,2026-01-05T00:00:00Z,mule,GB82WEST12345698765432,UPI,x@bank", "creditor.account", "Must hold exactly one of: iban; sortCode and accountNumber; scheme and id."),
    ])
    func fraudReportRowErrors(header: String, row: String, column: String, reason: String) {
        #expect(rowError(.fraudReports, header, row) == RowError(row: 2, column: column, reason: reason))
    }

    @Test func statuses() throws {
        let header = "paymentId,status,reasonCode,at,creditor.account.iban"
        let row = try one(.status, header, "p,returned,FRAD,2026-01-05T00:00:00Z,GB82WEST12345698765432").get()
        guard case .status(let status) = row else { Issue.record("not a status: \(row)"); return }
        #expect(status.report(creditorAccount: nil).isFraud)
        #expect(status.creditorAccount == .iban("GB82WEST12345698765432"))
        #expect(rowError(.status, header, "p,returned,frad,2026-01-05T00:00:00Z,")?.column == "reasonCode")
        #expect(rowError(.status, header, "p,lost,,2026-01-05T00:00:00Z,")?.column == "status")
        #expect(rowError(.status, header, "p,settled,,,")?.column == "at")
        #expect(throws: Never.self) { try one(.status, "uetr,status,at", "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d,settled,2026-01-05T00:00:00Z").get() }
    }

    @Test func entitlements() throws {
        let header = "codeType,from,to,perspectives,products,validFrom,validTo"
        let row = try one(.entitlements, header, "sortCode,400000,409999,sending;receiving,FPS;SEPA_INST,2026-01-01T00:00:00Z,").get()
        guard case .entitlement(let e) = row else { Issue.record("not an entitlement: \(row)"); return }
        #expect(e == Entitlement(
            codeType: .sortCode, from: "400000", to: "409999", perspectives: [.sending, .receiving], products: ["FPS", "SEPA_INST"],
            validFrom: Instant(rfc3339: "2026-01-01T00:00:00Z")!, validTo: nil
        ))
        guard case .entitlement(let all) = try one(.entitlements, header, "bic,NWBKGB2L,NWBKGB2L,receiving,*,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z").get()
        else { Issue.record("not an entitlement"); return }
        #expect(all.products == nil && all.perspectives == [.receiving])
        #expect(throws: Never.self) { try one(.entitlements, header, "account,40414212345678,40414299999999,sending,*,2026-01-01T00:00:00Z,").get() }
        #expect(throws: Never.self) { try one(.entitlements, header, "routing,021000021,021000021,sending,*,2026-01-01T00:00:00Z,").get() }
        let bad: [(String, String)] = [
            ("iban,1,2,sending,*,2026-01-01T00:00:00Z,", "codeType"),
            ("sortCode,40000,409999,sending,*,2026-01-01T00:00:00Z,", "from"),
            ("sortCode,400000,4099990,sending,*,2026-01-01T00:00:00Z,", "to"),
            ("sortCode,409999,400000,sending,*,2026-01-01T00:00:00Z,", "to"),
            ("bic,nwbkgb2l,NWBKGB2L,sending,*,2026-01-01T00:00:00Z,", "from"),
            ("sortCode,400000,409999,sending;sending,*,2026-01-01T00:00:00Z,", "perspectives"),
            ("sortCode,400000,409999,,*,2026-01-01T00:00:00Z,", "perspectives"),
            ("sortCode,400000,409999,sending,FPS;,2026-01-01T00:00:00Z,", "products"),
            ("sortCode,400000,409999,sending,*,2026-01-01T00:00:00Z,2025-01-01T00:00:00Z", "validTo"),
            ("sortCode,400000,409999,sending,*,,", "validFrom"),
        ]
        for (row, column) in bad {
            #expect(rowError(.entitlements, header, row)?.column == column, "\(row)")
        }
    }

    @Test func directory() throws {
        let header = "codeType,code,institution,institutionType,status"
        let row = try one(.directory, header, "sortCode,404142,\"Example Bank, Leeds\",crypto-exchange,active").get()
        guard case .directory(let entry) = row else { Issue.record("not a directory entry: \(row)"); return }
        #expect(entry == DirectoryEntry(code: InstitutionCode(type: .sortCode, value: "404142"), institution: "Example Bank, Leeds", type: .cryptoExchange, status: .active))
        #expect(rowError(.directory, header, "account,40414212345678,Bank,bank,active")?.column == "codeType")
        #expect(rowError(.directory, header, "routing,02100002,Bank,bank,active")?.column == "code")
        #expect(rowError(.directory, header, "bic,NWBKGB2L,\(String(repeating: "x", count: 141)),bank,active")?.column == "institution")
        #expect(rowError(.directory, header, "bic,NWBKGB2L,Bank,casino,active")?.column == "institutionType")
        #expect(rowError(.directory, header, "bic,NWBKGB2L,Bank,bank,open")?.column == "status")
    }

    @Test func accountMap() throws {
        let header = "customerId,account.iban,account.sortCode,account.accountNumber,card"
        let row = try one(.accountMap, header, "cust-1,,404142,12345678,4111111111111111").get()
        guard case .accountLink(let link) = row else { Issue.record("not a link: \(row)"); return }
        #expect(link == ParsedAccountLink(customerId: "cust-1", account: .ukDomestic(sortCode: "404142", accountNumber: "12345678"), card: "4111111111111111"))
        #expect(rowError(.accountMap, header, "cust-1,,,,")?.column == "account")
        #expect(rowError(.accountMap, header, "cust-1,GB82WEST12345698765432,404142,12345678,")?.column == "account")
        #expect(rowError(.accountMap, header, "cust-1,,404142,,")?.column == "account.accountNumber")
        #expect(rowError(.accountMap, header, ",GB82WEST12345698765432,,,")?.column == "customerId")
        #expect(rowError(.accountMap, header, "cust-1,GB82WEST12345698765432,,,4111111111111112") == RowError(
            row: 2, column: "card", reason: "Must be a card number: 12 to 19 digits with a valid Luhn check digit."
        ))
        #expect(rowError(.accountMap, header, "cust-1,GB82WEST12345698765432,,,41111111111")?.column == "card")
        #expect(rowError(.accountMap, "customerId,card", "c,4111111111111111")?.column == "refused")
    }
}
