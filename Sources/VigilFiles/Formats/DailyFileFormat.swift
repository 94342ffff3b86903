import VigilDomain
import VigilGateway

/// The columns of one type of daily file (docs/data-formats.md) and the rules its header must meet.
struct DailyFileColumns {
    /// Every column the type knows; any other is refused.
    var allowed: [String]
    var required: [String]
    /// Groups of which the header needs at least one column each (`paymentId` or `uetr`).
    var oneOf: [[String]] = []
    /// Columns that only make sense together: both or neither.
    var pairs: [(String, String)] = []

    static let creditorAccount = [
        "creditor.account.iban", "creditor.account.sortCode", "creditor.account.accountNumber", "creditor.account.scheme", "creditor.account.id",
    ]
    static let account = ["account.iban", "account.sortCode", "account.accountNumber", "account.scheme", "account.id"]
    static let creditorPairs = [("creditor.account.sortCode", "creditor.account.accountNumber"), ("creditor.account.scheme", "creditor.account.id")]

    static let fraudReports = DailyFileColumns(
        allowed: ["paymentId", "uetr", "reportedAt", "fraudType", "amountLost", "currency", "reportingSide"] + creditorAccount,
        required: ["reportedAt", "fraudType"], oneOf: [["paymentId", "uetr"]], pairs: [("amountLost", "currency")] + creditorPairs
    )
    static let status = DailyFileColumns(
        allowed: ["paymentId", "uetr", "status", "reasonCode", "at"] + creditorAccount,
        required: ["status", "at"], oneOf: [["paymentId", "uetr"]], pairs: creditorPairs
    )
    static let entitlements = DailyFileColumns(
        allowed: ["codeType", "from", "to", "perspectives", "products", "validFrom", "validTo"],
        required: ["codeType", "from", "to", "perspectives", "products", "validFrom"]
    )
    static let directory = DailyFileColumns(
        allowed: ["codeType", "code", "institution", "institutionType", "status"],
        required: ["codeType", "code", "institution", "institutionType", "status"]
    )
    static let accountMap = DailyFileColumns(
        allowed: ["customerId"] + account + ["card"], required: ["customerId"],
        oneOf: [["account.iban", "account.sortCode", "account.scheme"]],
        pairs: [("account.sortCode", "account.accountNumber"), ("account.scheme", "account.id")]
    )

    static func history(_ reader: HistoryReader) -> DailyFileColumns {
        DailyFileColumns(allowed: HistoryReader.columns.map { reader.mapping.theirs[$0] ?? $0 }, required: [])
    }

    static func of(_ type: DailyFileType, history reader: HistoryReader) -> DailyFileColumns {
        switch type {
        case .history: history(reader)
        case .fraudReports: fraudReports
        case .status: status
        case .entitlements: entitlements
        case .directory: directory
        case .accountMap: accountMap
        }
    }

    /// Checks a header row against the columns: each name once, none unknown, none required missing.
    /// - Returns: each column's index by name.
    func check(header names: [String], type: DailyFileType) throws(FileRefusal) -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            guard index.updateValue(i, forKey: name) == nil else {
                throw FileRefusal("the header names the column '\(name)' twice")
            }
        }
        let unknown = names.filter { !allowed.contains($0) }
        guard unknown.isEmpty else {
            throw FileRefusal(
                "the header has unknown column(s) \(Self.quoted(unknown)) for a \(type.rawValue) file; its columns are \(Self.quoted(allowed)) (docs/data-formats.md)"
            )
        }
        let missing = required.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw FileRefusal("the header lacks the required column(s) \(Self.quoted(missing)) of a \(type.rawValue) file")
        }
        for group in oneOf where !group.contains(where: { index[$0] != nil }) {
            throw FileRefusal("the header needs at least one of the columns \(Self.quoted(group)) in a \(type.rawValue) file")
        }
        for (a, b) in pairs where (index[a] == nil) != (index[b] == nil) {
            throw FileRefusal("the header has '\(index[a] == nil ? b : a)' without '\(index[a] == nil ? a : b)'; give both columns or neither")
        }
        return index
    }

    static func quoted(_ names: [String]) -> String { names.map { "'\($0)'" }.joined(separator: ", ") }
}

/// The cells of one data row, by column name; an absent column reads as an empty cell.
struct RowCells {
    let cells: [String]
    let index: [String: Int]

    subscript(_ name: String) -> String { index[name].map { cells[$0] } ?? "" }

    func optional(_ name: String) -> String? {
        let cell = self[name]
        return cell.isEmpty ? nil : cell
    }

    func required(_ name: String) throws(RowRejection) -> String {
        guard let cell = optional(name) else { throw RowRejection(column: name, "Required field is missing.") }
        return cell
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, required: Bool, as: E.Type) throws(RowRejection) -> E?
    where E.RawValue == String {
        guard let cell = required ? try self.required(name) : optional(name) else { return nil }
        guard let value = E(rawValue: cell) else {
            throw RowRejection(column: name, "Must be one of: \(E.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    func instant(_ name: String, required: Bool) throws(RowRejection) -> Instant? {
        guard let cell = required ? try self.required(name) : optional(name) else { return nil }
        return try Self.column(name, FieldRules.instant(cell))
    }

    /// A single-cell rule's result, its failure given the column.
    static func column<T>(_ name: String, _ result: Result<T, RowRejection>) throws(RowRejection) -> T {
        switch result {
        case .success(let value): return value
        case .failure(var rejection):
            rejection.column = rejection.column ?? name
            throw rejection
        }
    }

    /// `paymentId` and `uetr`: at least one.
    func paymentReference() throws(RowRejection) -> (paymentId: String?, uetr: String?) {
        let paymentId = try optional("paymentId").map { cell throws(RowRejection) in try Self.column("paymentId", FieldRules.paymentId(cell)) }
        let uetr = try optional("uetr").map { cell throws(RowRejection) in try Self.column("uetr", FieldRules.uetr(cell)) }
        guard paymentId != nil || uetr != nil else {
            throw RowRejection(column: index["paymentId"] != nil ? "paymentId" : "uetr", "A row needs a paymentId or a uetr.")
        }
        return (paymentId, uetr)
    }

    /// The account named by the columns under `prefix` (`creditor.account`), nil when they are all empty.
    func account(_ prefix: String) throws(RowRejection) -> AccountIdentifier? {
        let members = ["iban", "sortCode", "accountNumber", "scheme", "id"].map { (key: $0, value: self[prefix + "." + $0]) }
        return try FieldRules.account(members, prefix: prefix).get()
    }
}

/// The row rules of each daily-file type but history (which is ``HistoryReader``'s).
enum DailyFileRows {
    /// A fraud-reports row; also each report of `POST /v1/fraud-reports` (``FraudReportRequest``).
    static func fraudReport(_ row: RowCells) throws(RowRejection) -> ParsedFraudReport {
        let (paymentId, uetr) = try row.paymentReference()
        let reportedAt = try row.instant("reportedAt", required: true)!
        let fraudType = try row.enumeration("fraudType", required: true, as: FraudType.self)!
        var amountLost: Money?
        switch (row.optional("amountLost"), row.optional("currency")) {
        case (nil, nil): break
        case (let amount?, let currency?):
            do {
                amountLost = try FieldRules.money(amount: amount, currency: currency).get()
            } catch {
                throw RowRejection(column: error.column == "amount" ? "amountLost" : error.column, error.reason)
            }
        case (nil, _): throw RowRejection(column: "amountLost", "Required when currency is given.")
        case (_, nil): throw RowRejection(column: "currency", "Required when amountLost is given.")
        }
        let side = try row.enumeration("reportingSide", required: false, as: Perspective.self)
        let account = try row.account("creditor.account")
        return ParsedFraudReport(
            paymentId: paymentId, uetr: uetr, reportedAt: reportedAt, fraudType: fraudType, amountLost: amountLost,
            reportingSide: side, creditorAccount: account
        )
    }

    static func status(_ row: RowCells) throws(RowRejection) -> ParsedRow {
        let (paymentId, uetr) = try row.paymentReference()
        let status = try row.enumeration("status", required: true, as: PaymentFinalStatus.self)!
        let reasonCode = row.optional("reasonCode")
        if let reasonCode, reasonCode.utf8.count != 4 || !reasonCode.utf8.allSatisfy({ isUpper($0) || isDigit($0) }) {
            throw RowRejection(column: "reasonCode", "Must be 4 upper-case letters or digits (an ISO 20022 reason code such as FRAD or AC04).")
        }
        let at = try row.instant("at", required: true)!
        let account = try row.account("creditor.account")
        return .status(ParsedStatus(paymentId: paymentId, uetr: uetr, status: status, reasonCode: reasonCode, at: at, creditorAccount: account))
    }

    static func entitlement(_ row: RowCells) throws(RowRejection) -> ParsedRow {
        let codeType = try row.enumeration("codeType", required: true, as: EntitlementCodeType.self)!
        let from = try code(row.required("from"), of: codeType, column: "from")
        let to = try code(row.required("to"), of: codeType, column: "to")
        guard from <= to else { throw RowRejection(column: "to", "Must not come before from.") }
        var perspectives: Set<Perspective> = []
        for part in try row.required("perspectives").split(separator: ";", omittingEmptySubsequences: false) {
            guard let perspective = Perspective(rawValue: String(part)), perspectives.insert(perspective).inserted else {
                throw RowRejection(column: "perspectives", "Must be sending, receiving or sending;receiving.")
            }
        }
        let productsCell = try row.required("products")
        var products: Set<String>?
        if productsCell != "*" {
            var schemes: Set<String> = []
            for part in productsCell.split(separator: ";", omittingEmptySubsequences: false) {
                guard case .success(let scheme) = FieldRules.scheme(String(part)) else {
                    throw RowRejection(column: "products", "Must be * or schemes (upper-case letters, digits and underscores, 2 to 16 long) joined by ;.")
                }
                schemes.insert(scheme)
            }
            products = schemes
        }
        let validFrom = try row.instant("validFrom", required: true)!
        let validTo = try row.instant("validTo", required: false)
        if let validTo, validTo <= validFrom { throw RowRejection(column: "validTo", "Must be after validFrom.") }
        return .entitlement(Entitlement(
            codeType: codeType, from: from, to: to, perspectives: perspectives, products: products, validFrom: validFrom, validTo: validTo
        ))
    }

    static func directory(_ row: RowCells) throws(RowRejection) -> ParsedRow {
        let codeType = try row.enumeration("codeType", required: true, as: InstitutionCodeType.self)!
        let entitlementType: EntitlementCodeType =
            switch codeType {
            case .sortCode: .sortCode
            case .bic: .bic
            case .routing: .routing
            }
        let code = try code(row.required("code"), of: entitlementType, column: "code")
        let institution = try RowCells.column("institution", FieldRules.text(row.required("institution"), length: 1...140))
        let type = try row.enumeration("institutionType", required: true, as: InstitutionType.self)!
        let status = try row.enumeration("status", required: true, as: InstitutionStatus.self)!
        return .directory(DirectoryEntry(code: InstitutionCode(type: codeType, value: code), institution: institution, type: type, status: status))
    }

    static func accountLink(_ row: RowCells) throws(RowRejection) -> ParsedRow {
        let customerId = try RowCells.column("customerId", FieldRules.text(row.required("customerId"), length: 1...64))
        guard let account = try row.account("account") else {
            throw RowRejection(column: "account", "Must hold exactly one of: iban; sortCode and accountNumber; scheme and id.")
        }
        let card = row.optional("card")
        if let card, !isCardNumber(card) {
            throw RowRejection(column: "card", "Must be a card number: 12 to 19 digits with a valid Luhn check digit.")
        }
        return .accountLink(ParsedAccountLink(customerId: customerId, account: account, card: card))
    }

    /// An institution or account code of `type`, checked for its shape.
    static func code(_ cell: String, of type: EntitlementCodeType, column: String) throws(RowRejection) -> String {
        let utf8 = cell.utf8
        let ok: Bool
        let rule: String
        switch type {
        case .sortCode: (ok, rule) = (utf8.count == 6 && utf8.allSatisfy(isDigit), "6 digits (a sort code)")
        case .routing: (ok, rule) = (utf8.count == 9 && utf8.allSatisfy(isDigit), "9 digits (an ABA routing number)")
        case .account: (ok, rule) = (utf8.count == 14 && utf8.allSatisfy(isDigit), "14 digits (sort code then account number)")
        case .bic:
            (ok, rule) = (utf8.count == 8 && utf8.allSatisfy { isUpper($0) || isDigit($0) }, "8 upper-case letters or digits (the first 8 of a BIC)")
        }
        guard ok else { throw RowRejection(column: column, "Must be \(rule).") }
        return cell
    }

    /// 12 to 19 digits whose last is the Luhn check digit.
    static func isCardNumber(_ text: String) -> Bool {
        let digits = Array(text.utf8)
        guard (12...19).contains(digits.count), digits.allSatisfy(isDigit) else { return false }
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            let value = Int(digit - 48)
            sum += position % 2 == 1 ? (value * 2 > 9 ? value * 2 - 9 : value * 2) : value
        }
        return sum % 10 == 0
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
}
