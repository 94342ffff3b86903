import Foundation
public import VigilDomain
import VigilJSON

/// How a bank's own column names map onto Vigil's canonical ones (`--map canonical=theirs,…`), and which canonical
/// columns are one constant for every row (`--map perspective=const:sending`).
public struct ColumnMapping: Sendable, Equatable {
    public var theirs: [String: String]
    /// Canonical columns whose every cell is this value; the file need not have them.
    public var constants: [String: String]

    public init(_ theirs: [String: String] = [:], constants: [String: String] = [:]) {
        self.theirs = theirs
        self.constants = constants
    }

    /// The prefix of a `--map` value that makes it a constant rather than a column name.
    static let constantPrefix = "const:"

    /// Parses `amount=AMT,createdAt=ts,perspective=const:sending`; a canonical name may appear once.
    public init(parsing text: String) throws(FileError) {
        var map: [String: String] = [:]
        var constants: [String: String] = [:]
        for pair in text.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FileError("--map entries look like canonical=theirs or canonical=const:VALUE; '\(pair)' does not")
            }
            guard map[parts[0]] == nil, constants[parts[0]] == nil else { throw FileError("--map names '\(parts[0])' twice") }
            if parts[1].hasPrefix(Self.constantPrefix) {
                let value = String(parts[1].dropFirst(Self.constantPrefix.count))
                guard !value.isEmpty else { throw FileError("--map \(parts[0])=const: needs a value after 'const:'") }
                constants[parts[0]] = value
            } else {
                map[parts[0]] = parts[1]
            }
        }
        self.init(map, constants: constants)
    }

    func column(for canonical: String) -> String { theirs[canonical] ?? canonical }

    /// Every canonical name the mapping mentions, renamed or constant.
    var canonicalNames: [String] { Array(theirs.keys) + Array(constants.keys) }
}

/// How timestamps are written in a file (`--time-format`).
public enum TimeFormat: Sendable, Equatable {
    /// `2026-11-22T09:30:00Z` (the default).
    case rfc3339
    /// Seconds since 1970-01-01 UTC, e.g. `1795339800`.
    case epochSeconds
    /// `22/11/2026 09:30`, read in the `--utc-offset` given (default UTC).
    case dayMonthYear
    /// Hours since the given start, e.g. a simulator's step number (`hours-since:2026-01-01T00:00:00Z`); fractional, ≥ 0.
    case hoursSince(Instant)
    /// Days since the given start (`days-since:2026-01-01T00:00:00Z`); fractional, ≥ 0.
    case daysSince(Instant)

    /// The forms `--time-format` accepts, for messages.
    public static let accepted = "rfc3339, epoch-seconds, dd/mm/yyyy-hh:mm, hours-since:START or days-since:START (START an RFC 3339 time)"

    /// Parses a `--time-format` value.
    public init(parsing text: String) throws(FileError) {
        switch text {
        case "rfc3339": self = .rfc3339
        case "epoch-seconds": self = .epochSeconds
        case "dd/mm/yyyy-hh:mm": self = .dayMonthYear
        default:
            for (prefix, make) in [("hours-since:", Self.hoursSince), ("days-since:", Self.daysSince)] where text.hasPrefix(prefix) {
                guard let start = Instant(rfc3339: String(text.dropFirst(prefix.count))) else {
                    throw FileError("--time-format \(prefix)START needs START as an RFC 3339 time such as 2026-01-01T00:00:00Z")
                }
                self = make(start)
                return
            }
            throw FileError("--time-format must be one of \(Self.accepted)")
        }
    }

    /// The format's name in messages (`hours-since`, not its start).
    public var name: String {
        switch self {
        case .rfc3339: "rfc3339"
        case .epochSeconds: "epoch-seconds"
        case .dayMonthYear: "dd/mm/yyyy-hh:mm"
        case .hoursSince: "hours-since"
        case .daysSince: "days-since"
        }
    }

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
        case .hoursSince(let start):
            return Self.offset(cell, unitMillis: 3_600_000, from: start)
        case .daysSince(let start):
            return Self.offset(cell, unitMillis: 86_400_000, from: start)
        }
    }

    /// `start` plus `cell` units, to the millisecond; nil unless `cell` is a plain non-negative decimal number that
    /// lands before year 10000.
    static func offset(_ cell: String, unitMillis: Double, from start: Instant) -> String? {
        guard !cell.isEmpty, cell.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") }),
              let units = Double(cell), units.isFinite, units >= 0
        else { return nil }
        let millis = (units * unitMillis).rounded()
        guard millis < 253_402_300_800_000 - Double(start.epochMillis) else { return nil }
        return Instant(epochMillis: start.epochMillis + Int64(millis)).rfc3339UTC
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
    /// The row's own fraud label (`--label-column`); nil when the reader has no label column.
    public var isFraud: Bool?
}

/// Where a canonical column's cell comes from.
package enum CellSource: Sendable, Equatable {
    /// The file's column at this index.
    case column(Int)
    /// The same value for every row (`--map canonical=const:VALUE`).
    case constant(String)
}

/// One canonical history column present in a file: where its cells come from, worked out once per file so a row
/// costs no lookups by name.
package struct HistoryColumn: Sendable {
    enum Kind { case plain, time, amount }

    package var canonical: String
    package var source: CellSource
    /// Its path in the API's JSON body (`debtor.account.iban` → debtor, account, iban).
    let path: ArraySlice<String>
    let kind: Kind

    init(_ canonical: String, _ source: CellSource) {
        self.canonical = canonical
        self.source = source
        path = canonical.split(separator: ".").map(String.init)[...]
        kind = HistoryReader.timeColumns.contains(canonical) ? .time : canonical == "amount" ? .amount : .plain
    }

    func cell(_ cells: [String]) -> String {
        switch source {
        case .column(let index): cells[index]
        case .constant(let value): value
        }
    }
}

/// Why one row was refused: the column at fault (canonical name; nil for the row as a whole) and the rule it broke,
/// never the cell's value.
package struct RowRejection: Error, Sendable, Equatable {
    package var column: String?
    package var reason: String

    package init(column: String?, _ reason: String) {
        self.column = column
        self.reason = reason
    }

    /// `amount: Must be greater than zero.`: the form read summaries group by.
    package var text: String { column.map { "\($0): \(reason)" } ?? reason }
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
        "payee.firstSeenAt", "payee.confirmationOfPayee", "device.id", "device.ip", "reference", "uetr",
    ]
    public static let required = ["paymentId", "perspective", "type", "scheme", "amount", "currency", "createdAt"]
    static let timeColumns: Set<String> = ["createdAt", "payee.firstSeenAt"]

    public var mapping: ColumnMapping
    public var timeFormat: TimeFormat
    public var amountFormat: AmountFormat
    public var utcOffset: String
    /// A column of the history that says whether each payment was fraud (`--label-column isFraud`).
    public var labelColumn: String?

    public init(
        mapping: ColumnMapping = .init(), timeFormat: TimeFormat = .rfc3339, amountFormat: AmountFormat = .decimal, utcOffset: String = "Z",
        labelColumn: String? = nil
    ) {
        self.mapping = mapping
        self.timeFormat = timeFormat
        self.amountFormat = amountFormat
        self.utcOffset = utcOffset
        self.labelColumn = labelColumn
    }

    /// Reads every row; bad rows are counted and skipped, never fatal. A file-level problem throws.
    public func read(_ bytes: [UInt8]) throws(FileError) -> (rows: [HistoryRow], summary: ReadSummary) {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next() else { throw FileError("the history file is empty: it needs a header row") }
        let index = Dictionary(header.fields.enumerated().map { ($1.trimmingCharacters(in: .whitespaces), $0) }, uniquingKeysWith: { a, _ in a })
        let present = try sources { index[$0] }
        var label: Int?
        if let labelColumn {
            guard let column = index[labelColumn] else {
                throw FileError("the history header lacks the label column '\(labelColumn)' given by --label-column")
            }
            label = column
        }
        var rows: [HistoryRow] = []
        var summary = ReadSummary()
        while let record = records.next() {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }
            summary.read += 1
            guard record.fields.count == header.fields.count else {
                summary.reject(line: record.line, reason: "expected \(header.fields.count) cells, found \(record.fields.count)")
                continue
            }
            var isFraud: Bool?
            if let label {
                isFraud = Self.truth(record.fields[label])
                guard isFraud != nil else {
                    summary.reject(line: record.line, reason: "\(labelColumn ?? ""): must be 1, true, yes, 0, false, no or empty")
                    continue
                }
            }
            switch request(record.fields, columns: present) {
            case .success(let request):
                rows.append(HistoryRow(line: record.line, request: request, isFraud: isFraud))
                summary.accepted += 1
            case .failure(let rejection):
                summary.reject(line: record.line, reason: rejection.text)
            }
        }
        if let malformed = records.malformed {
            summary.read += 1
            summary.reject(line: malformed.line, reason: "a quoted field is not closed before the end of the file")
        }
        return (rows, summary)
    }

    /// Where each canonical column present comes from, given the index of a header name: the file's column under the
    /// mapped name, or the mapping's constant.
    /// - Throws: ``FileError`` when the mapping names a column that is not a history column, or a required column is
    ///   neither in the header nor a constant.
    package func sources(_ index: (String) -> Int?) throws(FileError) -> [HistoryColumn] {
        for canonical in mapping.canonicalNames.sorted() where !Self.columns.contains(canonical) {
            throw FileError("--map names '\(canonical)', which is not a history column; see docs/data-formats.md")
        }
        let missing = Self.required.filter { mapping.constants[$0] == nil && index(mapping.column(for: $0)) == nil }
        guard missing.isEmpty else {
            let names = missing.map { mapping.column(for: $0) == $0 ? "'\($0)'" : "'\(mapping.column(for: $0))' (for \($0))" }
            throw FileError(
                "the history header lacks the required column(s) \(names.joined(separator: ", ")); map other names with --map canonical=theirs, "
                    + "or give a constant with --map canonical=const:VALUE"
            )
        }
        return Self.columns.compactMap { canonical in
            if let constant = mapping.constants[canonical] { return HistoryColumn(canonical, .constant(constant)) }
            return index(mapping.column(for: canonical)).map { HistoryColumn(canonical, .column($0)) }
        }
    }

    /// A label cell: `1`, `true`, `yes` are fraud, `0`, `false`, `no` and empty are not (case-insensitive); nil otherwise.
    package static func truth(_ cell: String) -> Bool? {
        switch cell.lowercased() {
        case "1", "true", "yes": true
        case "0", "false", "no", "": false
        default: nil
        }
    }

    /// Validates one row exactly as the API validates a request body: the row becomes the JSON object the API would
    /// have received (an empty cell is an absent field) and goes through the API's field reader. The history file,
    /// the daily `history` file and `vigil features` all read rows here.
    package func request(_ cells: [String], columns: [HistoryColumn]) -> Result<PaymentRequest, RowRejection> {
        var body: FieldReader.Object = []
        body.reserveCapacity(12)
        let currency = columns.first { $0.canonical == "currency" }?.cell(cells)
        for column in columns {
            var cell = column.cell(cells)
            if cell.isEmpty { continue }
            switch column.kind {
            case .plain:
                break
            case .time:
                guard let converted = timeFormat.rfc3339(cell, utcOffset: utcOffset) else {
                    return .failure(RowRejection(column: column.canonical, "not a \(timeFormat.name) time"))
                }
                cell = converted
            case .amount:
                guard let converted = amountFormat.decimal(cell, currency: currency) else {
                    return .failure(RowRejection(column: column.canonical, "not a \(amountFormat.rawValue) amount"))
                }
                cell = converted
            }
            Self.insert(cell, at: column.path, into: &body)
        }
        var reader = FieldReader()
        let request = reader.payment(body)
        if let request, reader.errors.isEmpty { return .success(request) }
        guard let first = reader.errors.first else { return .failure(RowRejection(column: nil, "invalid row")) }
        return .failure(RowRejection(column: String(first.pointer.replacingOccurrences(of: "/", with: ".").dropFirst()), first.detail))
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
            // The same rules as a fraud-reports daily file's cells (FieldRules), so a label means one thing.
            guard case .success(let paymentId) = FieldRules.paymentId(record.fields[id]) else {
                summary.reject(line: record.line, reason: "paymentId: must be 1 to 64 characters long, without control characters")
                continue
            }
            guard let text = timeFormat.rfc3339(record.fields[reported], utcOffset: utcOffset), case .success(let at) = FieldRules.instant(text) else {
                summary.reject(line: record.line, reason: "reportedAt: not a \(timeFormat.name) time")
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
