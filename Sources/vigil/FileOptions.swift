import ArgumentParser
import Foundation
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilGateway
import VigilOffline
import VigilServer

/// How to read a bank's history and label files; shared by `features`, `train` and `evaluate`.
struct FileOptions: ParsableArguments {
    @Option(help: "Payment history CSV (docs/data-formats.md).") var history: String?
    @Option(help: "Fraud-report CSV (paymentId,reportedAt,fraudType).") var labels: String?
    @Option(
        help: "Map canonical column names to yours, or set one to a constant: canonical=theirs,canonical=const:VALUE,… (may be repeated)."
    ) var map: [String] = []
    @Option(
        name: .customLong("label-column"),
        help: "Take labels from this history column (1/true/yes: fraud; 0/false/no/empty: not), instead of --labels."
    ) var labelColumn: String?
    @Option(
        name: .customLong("time-format"),
        help: "rfc3339, epoch-seconds, dd/mm/yyyy-hh:mm, hours-since:START or days-since:START (START in RFC 3339)."
    ) var timeFormat: String = "rfc3339"
    @Option(name: .customLong("utc-offset"), help: "Offset for dd/mm/yyyy-hh:mm times, e.g. +01:00.") var utcOffset: String = "Z"
    @Option(name: .customLong("amount-format"), help: "decimal, decimal-comma or minor-units.") var amountFormat: String = "decimal"
    @Option(
        name: .customLong("data-dir"),
        help: "Use this data directory's tokenisation keys (tokens then match the server's) and the reference data its loaded daily files gave."
    ) var dataDir: String?
    @Option(
        name: .customLong("files"),
        help: "A folder of daily files (fraud-reports, status, directory, account-map, entitlements; TENANT/ subfolders per tenant) whose reference data the features read, as a server that loaded them would."
    ) var dailyFiles: String?

    func mapping() throws -> ColumnMapping { try ColumnMapping(parsing: map.joined(separator: ",")) }

    func time() throws -> TimeFormat {
        let format = try TimeFormat(parsing: timeFormat)
        guard utcOffset == "Z" || Instant(rfc3339: "2000-01-01T00:00:00" + utcOffset) != nil else {
            throw CLIError("--utc-offset must look like Z, +01:00 or -05:30")
        }
        return format
    }

    /// Reads and validates the history; the summary goes to stderr.
    /// - Throws: when the file cannot be read, or it has rows and every one of them was rejected.
    func readHistory() throws -> [HistoryRow] {
        guard let history else { throw CLIError("--history is required") }
        guard labelColumn == nil || labels == nil else { throw CLIError("give either --labels or --label-column, not both") }
        guard let amount = AmountFormat(rawValue: amountFormat) else {
            throw CLIError("--amount-format must be one of \(AmountFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let reader = HistoryReader(mapping: try mapping(), timeFormat: try time(), amountFormat: amount, utcOffset: utcOffset, labelColumn: labelColumn)
        let (rows, summary) = try reader.read(try readFile(history))
        printError((summary.report(name: history).utf8))
        try Self.refuseIfEveryRowRejected(summary, name: history)
        return rows
    }

    /// The labels: from --labels (none when no file is given), or from the history's --label-column, where a fraud
    /// row's report is taken as made at its createdAt, of type `other`. A file's summary goes to stderr.
    func readLabels(history rows: [HistoryRow]) throws -> [String: FraudLabel] {
        if labelColumn != nil {
            var labels: [String: FraudLabel] = [:]
            for row in rows where row.isFraud == true && labels[row.request.paymentId] == nil {
                labels[row.request.paymentId] = FraudLabel(paymentId: row.request.paymentId, reportedAt: row.request.createdAt, fraudType: .other)
            }
            return labels
        }
        guard let labels else { return [:] }
        let (read, summary) = try LabelReader(mapping: try mapping(), timeFormat: try time(), utcOffset: utcOffset).read(try readFile(labels))
        printError((summary.report(name: labels).utf8))
        if summary.read > 0, summary.accepted == 0 {
            // Not fatal, as a history would be: --time-format applies to both files, and a history read with another
            // format than its labels has always run unlabelled.
            printError(("warning: every row of \(labels) was rejected, so no payment is labelled; check its time format\n".utf8))
        }
        return read
    }

    /// The reference data the replay reads, and whose a row's is: the daily files the server at --data-dir loaded and the
    /// labels it received (from its event log), then the --files folder's. A row reads `tenant`'s directory and account links when given,
    /// else those of the --files tenant whose entitlements cover it (ReferenceFiles.tenant(of:covers:)).
    func reference(gateway: Gateway, tenant: String?) async throws -> (store: InMemoryReferenceStore, tenantOf: @Sendable (HistoryRow) -> String) {
        var store = InMemoryReferenceStore()
        var events: [IntakeEvent] = []
        var labels: [LabelEvent] = []
        if let dataDir, FileManager.default.fileExists(atPath: dataDir + "/events") {
            try FileEventLog.read(directory: dataDir + "/events") { _, payload in
                switch try EventCoding.decodeRecord(payload) {
                case .intake(let event): events.append(event)
                case .label(let event): labels.append(event)
                case .scored, .duplicateAnswered, .shadow: break
                }
            }
            for event in events { try await event.applyReference(to: store) }
            for label in labels { try await label.applyReference(to: store) }
        }
        guard let dailyFiles else {
            let fixed = tenant ?? ""
            return (store, { _ in fixed })
        }
        guard events.isEmpty else {
            throw CLIError("give --files or a --data-dir whose server loaded daily files, not both: the same reports would be read twice")
        }
        let files: ReferenceFiles
        do {
            files = try await ReferenceFiles.load(directory: dailyFiles, gateway: gateway)
        } catch let error as ReferenceFiles.LoadError {
            throw CLIError(error.description)
        }
        for note in files.notes { printError(("files: \(note)\n".utf8)) }
        store = files.store
        if let tenant { return (store, { _ in tenant }) }
        return (store, { row in files.tenant(of: row.request) { EntitlementCheck.allows($0, payment: $1, receivedAt: $1.createdAt) } })
    }

    /// A file with rows of which none was accepted is a wrong option or a wrong file, never an empty result.
    static func refuseIfEveryRowRejected(_ summary: ReadSummary, name: String) throws {
        guard summary.read > 0, summary.accepted == 0 else { return }
        let reasons = summary.rejected.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(3)
            .map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
        throw CLIError(
            "every row of \(name) was rejected (\(summary.read) row(s): \(reasons)); check --map, --time-format and --amount-format against the file"
        )
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
