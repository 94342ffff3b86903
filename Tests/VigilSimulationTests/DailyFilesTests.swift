import Foundation
import Testing
import VigilDomain
import VigilSimulation

/// The simulated institutions' daily files against the issue 13 contract (file names, columns, value rules), against
/// the history and labels they describe, and for the signals they exist to carry.
struct DailyFilesTests {
    /// One daily file read back: its tenant (nil for the shared directory), type, header and rows.
    struct File {
        var path: String
        var tenant: String?
        var type: DailyFileType
        var bytes: [UInt8]
        var header: [String]
        var rows: [[String]]

        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        func cell(_ row: [String], _ name: String) -> String { column(name).map { row[$0] } ?? "" }
    }

    static func files(_ run: SimulatedFiles) -> [File] {
        run.daily.keys.sorted().map { path in
            let parts = path.split(separator: "/").map(String.init)
            let type = DailyFileType(rawValue: String(parts.last!.split(separator: ".")[0]))!
            let table = CSV.parse(run.daily[path]!)
            return File(
                path: path, tenant: parts.count == 2 ? parts[0] : nil, type: type, bytes: run.daily[path]!,
                header: table.first ?? [], rows: Array(table.dropFirst())
            )
        }
    }

    static let all = files(shared)

    static let columns: [DailyFileType: Set<String>] = [
        .fraudReports: [
            "paymentId", "uetr", "reportedAt", "fraudType", "amountLost", "currency", "reportingSide",
            "creditor.account.iban", "creditor.account.sortCode", "creditor.account.accountNumber",
            "creditor.account.scheme", "creditor.account.id",
        ],
        .status: [
            "paymentId", "uetr", "status", "reasonCode", "at", "creditor.account.iban", "creditor.account.sortCode",
            "creditor.account.accountNumber", "creditor.account.scheme", "creditor.account.id",
        ],
        .entitlements: ["codeType", "from", "to", "perspectives", "products", "validFrom", "validTo"],
        .directory: ["codeType", "code", "institution", "institutionType", "status"],
        .accountMap: ["customerId", "account.iban", "account.sortCode", "account.accountNumber", "account.scheme", "account.id", "card"],
    ]

    // MARK: Value rules

    static func isDigits(_ text: String, _ count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    static func isUETR(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        return bytes.enumerated().allSatisfy { i, b in
            [8, 13, 18, 23].contains(i) ? b == 45 : (b >= 48 && b <= 57) || (b >= 97 && b <= 102)
        }
    }

    static func isDecimalAmount(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].count == 2
            && parts.allSatisfy { $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } } && Double(text)! > 0
    }

    static func luhnValid(_ digits: String) -> Bool {
        var sum = 0
        for (i, byte) in digits.utf8.reversed().enumerated() {
            var d = Int(byte) - 48
            if i % 2 == 1 {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
        }
        return sum % 10 == 0
    }

    /// The account a row's five account columns name, as one key (nil for none); throws nothing, records a problem
    /// when the columns mix forms or leave one half of a pair out.
    static func account(_ file: File, _ row: [String], prefix: String, problems: inout [String]) -> String? {
        let iban = file.cell(row, prefix + "iban")
        let sortCode = file.cell(row, prefix + "sortCode")
        let number = file.cell(row, prefix + "accountNumber")
        let scheme = file.cell(row, prefix + "scheme")
        let id = file.cell(row, prefix + "id")
        var forms: [String] = []
        if !iban.isEmpty { forms.append(iban) }
        if !sortCode.isEmpty || !number.isEmpty {
            if !isDigits(sortCode, 6) || !isDigits(number, 8) { problems.append("\(file.path): bad sort code/account number pair") }
            forms.append(sortCode + ":" + number)
        }
        if !scheme.isEmpty || !id.isEmpty {
            if scheme.isEmpty || id.isEmpty { problems.append("\(file.path): scheme without id or id without scheme") }
            forms.append(scheme + ":" + id)
        }
        if forms.count > 1 { problems.append("\(file.path): more than one account form in a row") }
        return forms.first
    }

    /// Every contract rule for one file; the problems found, each naming the file (never a cell's value).
    static func problems(_ file: File) -> [String] {
        var problems: [String] = []
        func check(_ ok: Bool, _ what: String) { if !ok { problems.append("\(file.path): \(what)") } }
        let name = file.path.split(separator: "/").last!
        let nameParts = name.split(separator: ".")
        check(nameParts.count == 3 && nameParts[2] == "csv" && Instant(rfc3339: nameParts[1] + "T00:00:00Z") != nil, "name is not TYPE.DATE.csv")
        if let tenant = file.tenant {
            check((1...63).contains(tenant.count) && tenant.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95
            }, "folder is not a tenant name")
        }
        check(!file.bytes.starts(with: [0xEF, 0xBB, 0xBF]), "starts with a byte-order mark")
        check(String(validating: file.bytes, as: UTF8.self) != nil, "is not UTF-8")
        check(!file.bytes.contains(13), "has a CR (line endings must be LF throughout)")
        check(file.bytes.last == 10, "last line not terminated")
        check(!file.rows.isEmpty, "has no rows")
        check(Set(file.header) == columns[file.type]! && file.header.count == columns[file.type]!.count, "header is not the contract's columns")
        check(file.rows.allSatisfy { $0.count == file.header.count }, "a row has the wrong number of cells")
        guard problems.isEmpty else { return problems }
        for row in file.rows {
            switch file.type {
            case .fraudReports, .status:
                let id = file.cell(row, "paymentId")
                let uetr = file.cell(row, "uetr")
                check(!id.isEmpty || !uetr.isEmpty, "a row names neither paymentId nor uetr")
                check(id.count <= 64, "paymentId over 64 characters")
                check(uetr.isEmpty || isUETR(uetr), "uetr is not a lower-case UUID")
                _ = account(file, row, prefix: "creditor.account.", problems: &problems)
                if file.type == .fraudReports {
                    check(Instant(rfc3339: file.cell(row, "reportedAt")) != nil, "reportedAt is not RFC 3339")
                    check(FraudType(rawValue: file.cell(row, "fraudType")) != nil, "unknown fraudType")
                    let amount = file.cell(row, "amountLost")
                    let currency = file.cell(row, "currency")
                    check(amount.isEmpty == currency.isEmpty, "amountLost without currency or currency without amountLost")
                    check(amount.isEmpty || isDecimalAmount(amount), "amountLost is not a decimal amount")
                    check(currency.isEmpty || Currency(code: currency) != nil, "unknown currency")
                    check(["", "sending", "receiving"].contains(file.cell(row, "reportingSide")), "bad reportingSide")
                } else {
                    check(PaymentFinalStatus(rawValue: file.cell(row, "status")) != nil, "unknown status")
                    let reason = file.cell(row, "reasonCode")
                    check(reason.isEmpty || (reason.utf8.count == 4 && reason.utf8.allSatisfy {
                        ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57)
                    }), "reasonCode is not 4 upper-case letters or digits")
                    check(Instant(rfc3339: file.cell(row, "at")) != nil, "at is not RFC 3339")
                }
            case .entitlements:
                let type = file.cell(row, "codeType")
                let from = file.cell(row, "from")
                let to = file.cell(row, "to")
                check(from.count == to.count && from <= to, "from and to differ in length or are out of order")
                for code in [from, to] {
                    switch type {
                    case "sortCode": check(isDigits(code, 6), "sort code is not 6 digits")
                    case "routing": check(isDigits(code, 9), "routing number is not 9 digits")
                    case "account": check(isDigits(code, 14), "account is not 14 digits")
                    case "bic": check(code.utf8.count == 8 && code.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) }, "bic is not 8 upper-case alphanumerics")
                    default: check(false, "unknown codeType")
                    }
                }
                check(["sending", "receiving", "sending;receiving"].contains(file.cell(row, "perspectives")), "bad perspectives")
                let products = file.cell(row, "products")
                check(products == "*" || products.split(separator: ";", omittingEmptySubsequences: false).allSatisfy {
                    ["FPS", "SEPA_INST", "PIX", "UPI", "FEDNOW", "RTP"].contains(String($0))
                }, "bad products")
                let validFrom = Instant(rfc3339: file.cell(row, "validFrom"))
                check(validFrom != nil, "validFrom is not RFC 3339")
                let validTo = file.cell(row, "validTo")
                check(validTo.isEmpty || (Instant(rfc3339: validTo).map { $0.epochMillis > validFrom!.epochMillis } ?? false), "validTo not after validFrom")
            case .directory:
                let code = file.cell(row, "code")
                switch file.cell(row, "codeType") {
                case "sortCode": check(isDigits(code, 6), "sort code is not 6 digits")
                case "routing": check(isDigits(code, 9), "routing number is not 9 digits")
                case "bic": check(code.utf8.count == 8, "bic is not 8 characters")
                default: check(false, "unknown codeType")
                }
                check((1...140).contains(file.cell(row, "institution").count), "institution not 1–140 characters")
                check(InstitutionType(rawValue: file.cell(row, "institutionType")) != nil, "unknown institutionType")
                check(InstitutionStatus(rawValue: file.cell(row, "status")) != nil, "unknown status")
            case .accountMap:
                check((1...64).contains(file.cell(row, "customerId").count), "customerId not 1–64 characters")
                check(account(file, row, prefix: "account.", problems: &problems) != nil, "a row without an account")
                let card = file.cell(row, "card")
                check(card.isEmpty || ((12...19).contains(card.count) && card.allSatisfy(\.isWholeNumber) && luhnValid(card)), "card is not a Luhn-valid PAN")
            case .history:
                check(false, "simulate writes its history as history.csv, not as a daily file")
            }
        }
        return problems
    }

    // MARK: Tests

    @Test func everyTenantGetsItsFilesAndTheDirectoryIsWrittenOnce() {
        let tenants = Set(DailyFilesTests.all.compactMap(\.tenant))
        #expect(tenants.count >= 15)
        #expect(DailyFilesTests.all.filter { $0.tenant == nil }.map(\.type) == [.directory])
        for type in [DailyFileType.status, .entitlements] {
            #expect(Set(DailyFilesTests.all.filter { $0.type == type }.compactMap(\.tenant)) == tenants, "\(type)")
        }
        #expect(DailyFilesTests.all.filter { $0.type == .fraudReports }.count >= 10)
        #expect(DailyFilesTests.all.filter { $0.type == .accountMap }.count >= 10)
        let dates = Set(DailyFilesTests.all.map { $0.path.split(separator: ".")[1] })
        #expect(dates.count == 1)
        #expect(shared.summary.dailyFiles?.files == DailyFilesTests.all.count)
    }

    @Test func everyFileObeysTheContract() {
        let problems = DailyFilesTests.all.flatMap(DailyFilesTests.problems)
        #expect(problems.isEmpty, "\(problems.prefix(10))")
    }

    @Test func theRuleChecksCatchBrokenFiles() {
        let good = DailyFilesTests.all.first { $0.type == .accountMap }!
        var crlf = good
        crlf.bytes = Array(String(decoding: good.bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        var badCard = good
        badCard.rows[0][good.column("card")!] = "4000000000000001"
        var twoForms = good
        twoForms.rows[0][good.column("account.iban")!] = "GB29NWBK60161331926819"
        twoForms.rows[0][good.column("account.sortCode")!] = "601613"
        twoForms.rows[0][good.column("account.accountNumber")!] = "31926819"
        for broken in [crlf, badCard, twoForms] {
            #expect(!DailyFilesTests.problems(broken).isEmpty)
        }
        #expect(DailyFilesTests.problems(good).isEmpty)
    }

    @Test func theSameSeedWritesTheSameDailyFilesAndAnotherSeedDoesNot() throws {
        let a = try SimulatedFiles(seed: 7, payments: 10_000)
        let b = try SimulatedFiles(seed: 7, payments: 10_000)
        let c = try SimulatedFiles(seed: 8, payments: 10_000)
        #expect(!a.daily.isEmpty)
        #expect(a.daily == b.daily)
        #expect(a.daily != c.daily)
    }

    @Test func fraudReportsAreTheLabelsAndStatusesCoverEveryPaymentOnce() {
        let reports = DailyFilesTests.all.filter { $0.type == .fraudReports }.flatMap { file in
            file.rows.map { (file.cell($0, "paymentId"), file.cell($0, "fraudType"), file.cell($0, "uetr"), file.cell($0, "reportedAt")) }
        }
        #expect(Dictionary(uniqueKeysWithValues: reports.map { ($0.0, $0.1) }) == shared.labelled)
        let historyUETR = Dictionary(uniqueKeysWithValues: shared.rows.map { ($0[0], $0[shared.column("uetr")]) })
        #expect(reports.allSatisfy { historyUETR[$0.0] == $0.2 })
        #expect(historyUETR.values.contains { !$0.isEmpty } && historyUETR.values.contains(""))
        let reportedAt = Dictionary(uniqueKeysWithValues: reports.map { ($0.0, Instant(rfc3339: $0.3)!) })

        var statusCount: [String: Int] = [:]
        var fraudReturns = 0
        for file in DailyFilesTests.all where file.type == .status {
            for row in file.rows {
                let id = file.cell(row, "paymentId")
                statusCount[id, default: 0] += 1
                #expect(historyUETR[id] == file.cell(row, "uetr"))
                if file.cell(row, "reasonCode") == "FRAD" {
                    fraudReturns += 1
                    #expect(["returned", "recalled"].contains(file.cell(row, "status")))
                    // A fraud return is a label: only for reported payments, and after the report.
                    #expect(reportedAt[id].map { $0.epochMillis <= Instant(rfc3339: file.cell(row, "at"))!.epochMillis } == true)
                }
            }
        }
        #expect(statusCount.count == shared.rows.count && statusCount.values.allSatisfy { $0 == 1 })
        #expect(fraudReturns >= 10 && fraudReturns < shared.labelRows.count)
        let statuses = DailyFilesTests.all.filter { $0.type == .status }.flatMap { f in f.rows.map { f.cell($0, "status") } }
        let settled = statuses.filter { $0 == "settled" }.count
        #expect(Double(settled) / Double(statuses.count) > 0.95)
        for status in PaymentFinalStatus.allCases { #expect(statuses.contains(status.rawValue), "no \(status.rawValue)") }
    }

    /// The tenant whose BIC an entitlements file covers, by BIC.
    static var tenantByBIC: [String: String] {
        var map: [String: String] = [:]
        for file in all where file.type == .entitlements {
            for row in file.rows where file.cell(row, "codeType") == "bic" { map[file.cell(row, "from")] = file.tenant! }
        }
        return map
    }

    @Test func eachTenantsEntitlementsCoverEveryPaymentItScoresAndItsStatusFileHasThem() {
        let tenantByBIC = DailyFilesTests.tenantByBIC
        var entitlements: [String: [(type: String, from: String, to: String, products: [Substring])]] = [:]
        for file in DailyFilesTests.all where file.type == .entitlements {
            entitlements[file.tenant!] = file.rows.map {
                (file.cell($0, "codeType"), file.cell($0, "from"), file.cell($0, "to"), file.cell($0, "products").split(separator: ";"))
            }
        }
        var statusTenant: [String: String] = [:]
        for file in DailyFilesTests.all where file.type == .status {
            for row in file.rows { statusTenant[file.cell(row, "paymentId")] = file.tenant! }
        }
        var uncovered = 0
        var misfiled = 0
        for row in shared.rows {
            let side = row[1] == "sending" ? "debtor" : "creditor"
            let bic = row[shared.column(side + ".agent")]
            guard let tenant = tenantByBIC[bic], let ranges = entitlements[tenant] else {
                uncovered += 1
                continue
            }
            if statusTenant[row[0]] != tenant { misfiled += 1 }
            let scheme = row[shared.column("scheme")]
            var codes = [("bic", bic)]
            let sortCode = row[shared.column(side + ".account.sortCode")]
            if !sortCode.isEmpty { codes.append(("sortCode", sortCode)) }
            let covered = codes.allSatisfy { type, code in
                ranges.contains { $0.type == type && $0.from <= code && code <= $0.to && $0.products.contains(Substring(scheme)) }
            }
            if !covered { uncovered += 1 }
        }
        #expect(uncovered == 0)
        #expect(misfiled == 0)
    }

    @Test func theDirectoryNamesEveryCodeTheHistoryUses() {
        let directory = DailyFilesTests.all.first { $0.type == .directory }!
        let codes = Set(directory.rows.map { directory.cell($0, "codeType") + ":" + directory.cell($0, "code") })
        #expect(codes.count == directory.rows.count)
        #expect(directory.rows.contains { directory.cell($0, "institution").contains(",") }, "no quoted name exercised")
        var missing = Set<String>()
        for row in shared.rows {
            for side in ["debtor", "creditor"] {
                let bic = "bic:" + row[shared.column(side + ".agent")]
                if !codes.contains(bic) { missing.insert(bic) }
                let sortCode = row[shared.column(side + ".account.sortCode")]
                if !sortCode.isEmpty, !codes.contains("sortCode:" + sortCode) { missing.insert("sortCode") }
                let id = row[shared.column(side + ".account.id")]
                if row[shared.column(side + ".account.scheme")] == "ABA", !codes.contains("routing:" + id.prefix(9)) { missing.insert("routing") }
            }
        }
        #expect(missing.isEmpty, "\(missing.prefix(5))")
    }

    @Test func muleCreditorsAreMoreOftenAtNonBanksThanGenuinePayeesButNotAlways() {
        let directory = DailyFilesTests.all.first { $0.type == .directory }!
        let typeByBIC = Dictionary(uniqueKeysWithValues: directory.rows.filter { directory.cell($0, "codeType") == "bic" }.map {
            (directory.cell($0, "code"), directory.cell($0, "institutionType"))
        })
        let fraud = shared.labelled
        var mule = (nonBank: 0, all: 0)
        var genuine = (nonBank: 0, all: 0)
        for row in shared.rows {
            let type = typeByBIC[row[shared.column("creditor.agent")]]!
            let nonBank = type != "bank" && type != "building-society"
            switch fraud[row[0]] {
            case nil:
                genuine.all += 1
                if nonBank { genuine.nonBank += 1 }
            case "first_party":
                break
            default:
                mule.all += 1
                if nonBank { mule.nonBank += 1 }
            }
        }
        let muleShare = Double(mule.nonBank) / Double(mule.all)
        let genuineShare = Double(genuine.nonBank) / Double(genuine.all)
        #expect(muleShare > 2 * genuineShare, "fraud payees at non-banks \(muleShare), genuine \(genuineShare)")
        #expect(muleShare < 0.9)
        #expect(genuineShare > 0.02)
    }

    @Test func customersLinkSeveralAccountsThatPayAndSomeVictimsPayFromTheirSecond() {
        var accountsOf: [String: [String]] = [:]
        var cards = 0
        for file in DailyFilesTests.all where file.type == .accountMap {
            var problems: [String] = []
            for row in file.rows {
                let key = DailyFilesTests.account(file, row, prefix: "account.", problems: &problems)!
                accountsOf[file.tenant! + "/" + file.cell(row, "customerId"), default: []].append(key)
                if !file.cell(row, "card").isEmpty { cards += 1 }
            }
        }
        #expect(cards >= 100)
        var debtors = Set<String>()
        var fraudDebtors = Set<String>()
        let fraud = shared.labelled
        for row in shared.rows {
            let debtor = shared.accountKey(row, side: "debtor")
            debtors.insert(debtor)
            if fraud[row[0]] == "app_scam" || fraud[row[0]] == "account_takeover" { fraudDebtors.insert(debtor) }
        }
        let linkedPayers = accountsOf.values.filter { $0.filter(debtors.contains).count >= 2 }
        #expect(linkedPayers.count >= 50)
        // The first account listed is the customer's main one; a victim paying out of another is on the map too.
        let fromSecond = accountsOf.values.filter { $0.dropFirst().contains(where: fraudDebtors.contains) }
        #expect(fromSecond.count >= 1)
    }
}
