import ArgumentParser
import Foundation
import VigilDomain
import VigilGateway
import VigilOffline

/// How to read a bank's history and label files; shared by `features`, `train` and `evaluate`.
struct FileOptions: ParsableArguments {
    @Option(help: "Payment history CSV (docs/data-formats.md).") var history: String?
    @Option(help: "Fraud-report CSV (paymentId,reportedAt,fraudType).") var labels: String?
    @Option(help: "Map canonical column names to yours: canonical=theirs,…") var map: String?
    @Option(name: .customLong("time-format"), help: "rfc3339, epoch-seconds or dd/mm/yyyy-hh:mm.") var timeFormat: String = "rfc3339"
    @Option(name: .customLong("utc-offset"), help: "Offset for dd/mm/yyyy-hh:mm times, e.g. +01:00.") var utcOffset: String = "Z"
    @Option(name: .customLong("amount-format"), help: "decimal, decimal-comma or minor-units.") var amountFormat: String = "decimal"
    @Option(name: .customLong("data-dir"), help: "Use this data directory's tokenisation keys (tokens then match the server's).") var dataDir: String?

    func mapping() throws -> ColumnMapping { try map.map { try ColumnMapping(parsing: $0) } ?? ColumnMapping() }

    func time() throws -> TimeFormat {
        guard let format = TimeFormat(rawValue: timeFormat) else {
            throw CLIError("--time-format must be one of \(TimeFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard utcOffset == "Z" || Instant(rfc3339: "2000-01-01T00:00:00" + utcOffset) != nil else {
            throw CLIError("--utc-offset must look like Z, +01:00 or -05:30")
        }
        return format
    }

    /// Reads and validates the history; the summary goes to stderr.
    func readHistory() throws -> [HistoryRow] {
        guard let history else { throw CLIError("--history is required") }
        guard let amount = AmountFormat(rawValue: amountFormat) else {
            throw CLIError("--amount-format must be one of \(AmountFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let reader = HistoryReader(mapping: try mapping(), timeFormat: try time(), amountFormat: amount, utcOffset: utcOffset)
        let (rows, summary) = try reader.read(try readFile(history))
        printError((summary.report(name: history).utf8))
        return rows
    }

    /// Reads the labels (none when no file is given); the summary goes to stderr.
    func readLabels() throws -> [String: FraudLabel] {
        guard let labels else { return [:] }
        let (read, summary) = try LabelReader(mapping: try mapping(), timeFormat: try time(), utcOffset: utcOffset).read(try readFile(labels))
        printError((summary.report(name: labels).utf8))
        return read
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    return Array(data)
}

func writeFile(_ bytes: [UInt8], to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CLIError("cannot write \(path)") }
}

/// Parses a `--label-cutoff`, `--until` or `--from` date: RFC 3339, or a plain `YYYY-MM-DD` meaning midnight UTC.
func parseDate(_ text: String, option: String) throws -> Instant {
    if let instant = Instant(rfc3339: text) ?? Instant(rfc3339: text + "T00:00:00Z") { return instant }
    throw CLIError("\(option) must be an RFC 3339 time or a YYYY-MM-DD date")
}
