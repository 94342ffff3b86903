import ArgumentParser
import Foundation
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilOffline

struct LabelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels", abstract: "Read the labels and outcomes in the event log.", subcommands: [Export.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every fraud report and outcome the server knows (run time and daily files) as CSV, tokens only.",
            discussion: "Columns: tenant, source (api, pacs.002, camt.056, file), paymentId, uetr, knownAt, at, kind (fraud-report, outcome), fraudType, status, reasonCode, amountLost, currency, reportingSide, creditorAccount (the account's token in hex). See docs/labels.md."
        )

        @Option(name: .customLong("data-dir"), help: "The server's data directory, whose event log is read.") var dataDir: String = "./data"
        @Option(help: "Only labels known at or after this instant (RFC 3339 or YYYY-MM-DD).") var from: String?
        @Option(help: "Only labels known before this instant (RFC 3339 or YYYY-MM-DD).") var to: String?
        @Option(help: "Only this tenant's labels.") var tenant: String?
        @Option(help: "Where to write the CSV; - for standard output.") var out: String

        // Synchronous work behind `run`: the release compiler (Swift 6.3.1) crashed splitting the async `run` when the
        // log-reading closure was inside it.
        func run() async throws { try export() }

        func export() throws {
            let from = try from.map { try parseDate($0, option: "--from") }
            let to = try to.map { try parseDate($0, option: "--to") }
            var writer = LabelExportWriter()
            try readEventLog(dataDir) { event in
                guard let label = KnownLabel(event), tenant == nil || label.tenant == tenant,
                    from.map({ label.knownAt >= $0 }) ?? true, to.map({ label.knownAt < $0 }) ?? true
                else { return }
                writer.append(label)
            }
            try writeOutput(writer.text, to: out)
            printError("labels export: \(writer.rows) label(s)\n".utf8)
        }
    }
}

struct TrainingSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-set", abstract: "Build training sets from the event log.", subcommands: [Export.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the payments scored in [--from, --to) with the features they were scored with and their labels as known at --label-cutoff, in the `vigil features` format.",
            discussion: "`vigil train --features F.csv` trains on the file with no replay. A payment is 1 when a fraud report, or a return or recall for fraud (FRAD), for the tenant's payment id or UETR was in the log at the cut-off and says it happened by then. Degraded scores are left out. See docs/labels.md."
        )

        @Option(name: .customLong("data-dir"), help: "The server's data directory, whose event log is read.") var dataDir: String = "./data"
        @Option(help: "The first instant of the period (payments received at or after it; RFC 3339 or YYYY-MM-DD).") var from: String
        @Option(help: "The end of the period (payments received before it).") var to: String
        @Option(name: .customLong("label-cutoff"), help: "Labels known after this do not count (default: every label in the log).") var labelCutoff: String?
        @Option(help: "Only this tenant's payments and labels.") var tenant: String?
        @Option(help: "Where to write the feature file.") var out: String

        func run() async throws { try export() }

        func export() throws {
            let from = try parseDate(from, option: "--from")
            let to = try parseDate(to, option: "--to")
            guard from < to else { throw CLIError("--from must come before --to") }
            var builder = TrainingSetBuilder(
                from: from, to: to, labelCutoff: try labelCutoff.map { try parseDate($0, option: "--label-cutoff") }, tenant: tenant
            )
            try readEventLog(dataDir) { builder.add($0) }
            let text = builder.write()
            try writeOutput(text, to: out)
            let summary = builder.summary
            printError((
                "training-set export: \(summary.rows) payment(s), \(summary.frauds) labelled fraud; \(summary.degraded) degraded score(s) "
                    + "left out; \(summary.labelsAfterCutoff) fraud label(s) after the cut-off not counted\n"
            ).utf8)
        }
    }
}

/// Every record of the event log at `dataDir/events`, decoded, in log order.
func readEventLog(_ dataDir: String, _ body: (LoggedEvent) throws -> Void) throws {
    let directory = dataDir + "/events"
    guard FileManager.default.fileExists(atPath: directory) else { throw CLIError("no event log at \(directory)") }
    try FileEventLog.read(directory: directory) { sequence, payload in
        let event: LoggedEvent
        do {
            event = try EventCoding.decodeRecord(payload)
        } catch {
            throw CLIError("record \(sequence) is not an event this version reads: \(error)")
        }
        try body(event)
    }
}

/// Writes `bytes` to the file `path`, or to standard output for `-`.
func writeOutput(_ bytes: [UInt8], to path: String) throws {
    guard path == "-" else { return try writeFile(bytes, to: path) }
    try StandardOutput.print(bytes)
}
