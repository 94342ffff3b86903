import Foundation
public import VigilDomain
import VigilJSON

/// How a bank's own column names map onto Vigil's canonical ones (`--map canonical=theirs,…`).
public struct ColumnMapping: Sendable, Equatable {
    public var theirs: [String: String]

    public init(_ theirs: [String: String] = [:]) {
        self.theirs = theirs
    }

    /// Parses `amount=AMT,createdAt=ts`; a canonical name may appear once.
    public init(parsing text: String) throws(FileError) {
        var map: [String: String] = [:]
        for pair in text.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FileError("--map entries look like canonical=theirs; '\(pair)' does not")
            }
            guard map[parts[0]] == nil else { throw FileError("--map names '\(parts[0])' twice") }
            map[parts[0]] = parts[1]
        }
        self.init(map)
    }

    func column(for canonical: String) -> String { theirs[canonical] ?? canonical }
}

/// How timestamps are written in a file (`--time-format`).
public enum TimeFormat: String, Sendable, CaseIterable {
    /// `2026-11-22T09:30:00Z` (the default).
    case rfc3339
    /// Seconds since 1970-01-01 UTC, e.g. `1795339800`.
    case epochSeconds = "epoch-seconds"
    /// `22/11/2026 09:30`, read in the `--utc-offset` given (default UTC).
    case dayMonthYear = "dd/mm/yyyy-hh:mm"

    /// The RFC 3339 text for a cell, or nil when the cell is not in this format.
    func rfc3339(_ cell: String, utcOffset: String) -> String? {
        switch self {
        case .rfc3339:
            return cell
        case .epochSeconds:
            guard let seconds = Int64(cell), seconds > -62_135_596_800, seconds < 253_402_300_800 else { return nil }
            return Instant(epochMillis: seconds * 1000).rfc3339UTC
        case .dayMonthYear:
            let parts = cell.split(whereSeparator: { $0 == "/" || $0 == " " || $0 == ":" })
            guard parts.count == 5, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4, parts[3].count == 2,
                  parts[4].count == 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
            else { return nil }
            return "\(parts[2])-\(parts[1])-\(parts[0])T\(parts[3]):\(parts[4]):00\(utcOffset)"
        }
    }
}

/// How amounts are written in a file (`--amount-format`).
public enum AmountFormat: String, Sendable, CaseIterable {
    /// `1234.56` (the default).
    case decimal
    /// `1234,56`: a decimal comma.
    case decimalComma = "decimal-comma"
    /// `123456`: an integer count of the currency's minor units.
    case minorUnits = "minor-units"

    func decimal(_ cell: String, currency: String?) -> String? {
        switch self {
        case .decimal: return cell
        case .decimalComma: return cell.contains(".") ? nil : cell.replacingOccurrences(of: ",", with: ".")
        case .minorUnits:
            guard let currency = currency.flatMap(Currency.init(code:)), let minor = Int64(cell), minor > 0 else { return nil }
            return Money(minorUnits: minor, currency: currency).decimalString
        }
    }
}

/// One accepted history row.
public struct HistoryRow: Sendable {
    public var line: Int
    public var request: PaymentRequest
}

/// Reads a payment-history CSV (docs/data-formats.md) with the same validation as the API.
public struct HistoryReader: Sendable {
    /// Every canonical column, in the order Vigil writes them.
    public static let columns = [
        "paymentId", "perspective", "type", "scheme", "channel", "amount", "currency", "createdAt",
        "debtor.name", "debtor.account.iban", "debtor.account.sortCode", "debtor.account.accountNumber",
        "debtor.account.scheme", "debtor.account.id", "debtor.agent",
        "creditor.name", "creditor.account.iban", "creditor.account.sortCode", "creditor.account.accountNumber",
        "creditor.account.scheme", "creditor.account.id", "creditor.agent",
        "payee.firstSeenAt", "payee.confirmationOfPayee", "device.id", "device.ip", "reference",
    ]
    static let required = ["paymentId", "perspective", "type", "scheme", "amount", "currency", "createdAt"]
    static let timeColumns: Set<String> = ["createdAt", "payee.firstSeenAt"]

    public var mapping: ColumnMapping
    public var timeFormat: TimeFormat
    public var amountFormat: AmountFormat
    public var utcOffset: String

    public init(mapping: ColumnMapping = .init(), timeFormat: TimeFormat = .rfc3339, amountFormat: AmountFormat = .decimal, utcOffset: String = "Z") {
        self.mapping = mapping
        self.timeFormat = timeFormat
        self.amountFormat = amountFormat
        self.utcOffset = utcOffset
    }

    /// Reads every row; bad rows are counted and skipped, never fatal. A file-level problem throws.
    public func read(_ bytes: [UInt8]) throws(FileError) -> (rows: [HistoryRow], summary: ReadSummary) {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next() else { throw FileError("the history file is empty: it needs a header row") }
        let index = Dictionary(header.fields.enumerated().map { ($1.trimmingCharacters(in: .whitespaces), $0) }, uniquingKeysWith: { a, _ in a })
        for canonical in mapping.theirs.keys where !Self.columns.contains(canonical) {
            throw FileError("--map names '\(canonical)', which is not a history column; see docs/data-formats.md")
        }
        let missing = Self.required.filter { index[mapping.column(for: $0)] == nil }
        guard missing.isEmpty else {
            let names = missing.map { mapping.column(for: $0) == $0 ? "'\($0)'" : "'\(mapping.column(for: $0))' (for \($0))" }
            throw FileError("the history header lacks the required column(s) \(names.joined(separator: ", ")); map other names with --map canonical=theirs")
        }
        let present = Self.columns.compactMap { canonical in index[mapping.column(for: canonical)].map { (canonical, $0) } }
        var rows: [HistoryRow] = []
        var summary = ReadSummary()
        while let record = records.next() {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }
            summary.read += 1
            guard record.fields.count == header.fields.count else {
                summary.reject(line: record.line, reason: "expected \(header.fields.count) cells, found \(record.fields.count)")
                continue
            }
            switch row(record.fields, columns: present) {
            case .success(let request):
                rows.append(HistoryRow(line: record.line, request: request))
                summary.accepted += 1
            case .failure(let reason):
                summary.reject(line: record.line, reason: reason.text)
            }
        }
        if let malformed = records.malformed {
            summary.read += 1
            summary.reject(line: malformed.line, reason: "a quoted field is not closed before the end of the file")
        }
        return (rows, summary)
    }

    func row(_ fields: [String], columns: [(canonical: String, index: Int)]) -> Result<PaymentRequest, RejectionReason> {
        var body: FieldReader.Object = []
        let currency = columns.first { $0.canonical == "currency" }.map { fields[$0.index] }
        for (canonical, index) in columns {
            var cell = fields[index]
            if cell.isEmpty { continue }
            if Self.timeColumns.contains(canonical) {
                guard let converted = timeFormat.rfc3339(cell, utcOffset: utcOffset) else {
                    return .failure(RejectionReason("\(canonical): not a \(timeFormat.rawValue) time"))
                }
                cell = converted
            } else if canonical == "amount" {
                guard let converted = amountFormat.decimal(cell, currency: currency) else {
                    return .failure(RejectionReason("amount: not a \(amountFormat.rawValue) amount"))
                }
                cell = converted
            }
            Self.insert(cell, at: canonical.split(separator: ".").map(String.init)[...], into: &body)
        }
        var reader = FieldReader()
        let request = reader.payment(body)
        if let request, reader.errors.isEmpty { return .success(request) }
        let first = reader.errors.first.map { "\($0.pointer.replacingOccurrences(of: "/", with: ".").dropFirst()): \($0.detail)" }
        return .failure(RejectionReason(first ?? "invalid row"))
    }

    /// Puts `value` at the dotted `path` (`debtor.account.iban`), creating the objects on the way, so a row
    /// becomes the same JSON object the API would have received.
    static func insert(_ value: String, at path: ArraySlice<String>, into object: inout FieldReader.Object) {
        guard let head = path.first else { return }
        let existing = object.firstIndex { $0.key == head }
        guard path.count > 1 else {
            if let existing {
                object[existing].value = .string(value)
            } else {
                object.append(JSONValue.Member(key: head, value: .string(value)))
            }
            return
        }
        var inner: FieldReader.Object = []
        if let existing, case .object(let members) = object[existing].value {
            inner = members
        }
        insert(value, at: path.dropFirst(), into: &inner)
        if let existing {
            object[existing].value = .object(inner)
        } else {
            object.append(JSONValue.Member(key: head, value: .object(inner)))
        }
    }
}

struct RejectionReason: Error {
    var text: String
    init(_ text: String) { self.text = text }
}

/// One fraud report.
public struct FraudLabel: Sendable, Equatable {
    public var paymentId: String
    public var reportedAt: Instant
    public var fraudType: FraudType

    public init(paymentId: String, reportedAt: Instant, fraudType: FraudType) {
        self.paymentId = paymentId
        self.reportedAt = reportedAt
        self.fraudType = fraudType
    }
}

/// Reads a fraud-report CSV (`paymentId,reportedAt,fraudType`).
public struct LabelReader: Sendable {
    public var mapping: ColumnMapping
    public var timeFormat: TimeFormat
    public var utcOffset: String

    public init(mapping: ColumnMapping = .init(), timeFormat: TimeFormat = .rfc3339, utcOffset: String = "Z") {
        self.mapping = mapping
        self.timeFormat = timeFormat
        self.utcOffset = utcOffset
    }

    /// Labels by payment id; a payment reported twice keeps its earliest report (counted as a duplicate).
    public func read(_ bytes: [UInt8]) throws(FileError) -> (labels: [String: FraudLabel], summary: ReadSummary) {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next() else { throw FileError("the label file is empty: it needs a header row") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func column(_ canonical: String) throws(FileError) -> Int {
            guard let index = names.firstIndex(of: mapping.column(for: canonical)) else {
                throw FileError("the label header lacks the column '\(mapping.column(for: canonical))' (for \(canonical))")
            }
            return index
        }
        let id = try column("paymentId")
        let reported = try column("reportedAt")
        let type = try column("fraudType")
        var labels: [String: FraudLabel] = [:]
        var summary = ReadSummary()
        while let record = records.next() {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }
            summary.read += 1
            guard record.fields.count == names.count else {
                summary.reject(line: record.line, reason: "expected \(names.count) cells, found \(record.fields.count)")
                continue
            }
            let paymentId = record.fields[id]
            guard !paymentId.isEmpty, paymentId.count <= 64 else {
                summary.reject(line: record.line, reason: "paymentId: must be 1 to 64 characters long")
                continue
            }
            guard let text = timeFormat.rfc3339(record.fields[reported], utcOffset: utcOffset), let at = Instant(rfc3339: text) else {
                summary.reject(line: record.line, reason: "reportedAt: not a \(timeFormat.rawValue) time")
                continue
            }
            guard let fraudType = FraudType(rawValue: record.fields[type]) else {
                summary.reject(line: record.line, reason: "fraudType: must be one of \(FraudType.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            if let existing = labels[paymentId] {
                summary.reject(line: record.line, reason: "paymentId reported twice (the earliest report is kept)")
                if at < existing.reportedAt { labels[paymentId] = FraudLabel(paymentId: paymentId, reportedAt: at, fraudType: fraudType) }
                continue
            }
            labels[paymentId] = FraudLabel(paymentId: paymentId, reportedAt: at, fraudType: fraudType)
            summary.accepted += 1
        }
        if let malformed = records.malformed {
            summary.read += 1
            summary.reject(line: malformed.line, reason: "a quoted field is not closed before the end of the file")
        }
        return (labels, summary)
    }
}
