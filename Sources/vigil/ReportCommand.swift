import ArgumentParser
import Foundation
import VigilKafkaStream
import VigilReporting
import VigilServer

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report usage per tenant and UTC day from the event log: payments scored, decisions, duplicates, rule firings, processing time and billable units.",
        discussion: """
            Reads DATA/events/ offline (a running server may keep writing). Days are UTC days of each event's \
            receivedAt, --from and --to both included. --monthly prints the billing CSV instead: one row per tenant \
            and month. Formats and columns: docs/reporting.md. A wrong option or a data directory without an event \
            log exits 2.
            """
    )

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The first UTC day to report, YYYY-MM-DD.") var from: String
    @Option(help: "The last UTC day to report, YYYY-MM-DD (included).") var to: String
    @Option(help: "Report only this tenant.") var tenant: String?
    @Option(help: "md (default), csv or json.") var format: String?
    @Flag(help: "Print the billing CSV: tenant, month, billable units, scored, duplicates.") var monthly = false
    @Option(help: ArgumentHelp(
        "Read the event stream's Kafka topic from its beginning instead of the local event log: kafka://host:port,host:port.",
        valueName: "url"
    ))
    var stream: String?
    @Option(help: "The topic to read with --stream (default vigil.events).") var topic: String?

    func run() async throws {
        guard let first = UTCDay(parsing: from) else { throw Self.refuse("--from must be a date written YYYY-MM-DD") }
        guard let last = UTCDay(parsing: to) else { throw Self.refuse("--to must be a date written YYYY-MM-DD") }
        guard first <= last else { throw Self.refuse("--from is after --to") }
        let chosen: ReportFormat
        if let format {
            guard let known = ReportFormat(rawValue: format) else {
                throw Self.refuse("--format must be one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen = known
        } else {
            chosen = monthly ? .csv : .md
        }
        if monthly, chosen != .csv { throw Self.refuse("--monthly prints the billing CSV; leave out --format or give csv") }

        let source: any ReportEventSource
        if let stream {
            let url: EventStreamURL
            do {
                url = try EventStreamURL(parsing: stream, from: "--stream")
            } catch {
                throw Self.refuse(error.description)
            }
            let topic = topic ?? VigilConfiguration().streamTopic
            guard EventStreamURL.isValidTopic(topic) else {
                throw Self.refuse("--topic must be 1–249 characters of letters, digits, '.', '_' and '-'")
            }
            source = KafkaTopicSource(url: url, topic: topic)
        } else {
            if topic != nil { throw Self.refuse("--topic needs --stream") }
            if (data.resolvedControlPlane ?? "files") == "files" { try requireDataDirectory("report", data.dataDir) }
            let directory = data.dataDir + "/events"
            guard FileManager.default.fileExists(atPath: directory) else {
                throw Self.refuse("no event log at \(directory) (a node writes one when it first serves)")
            }
            source = EventLogDirectorySource(directory: directory)
        }
        var aggregator = UsageAggregator(from: first, to: last, tenant: tenant)
        do {
            try await aggregator.add(from: source)
        } catch let error as ReportError {
            throw CLIError("report: \(error)")
        }
        let report = aggregator.report()
        try StandardOutput.print(monthly ? report.monthlyCSV() : report.rendered(chosen))
    }

    /// Says what is wrong with the options and exits 2, as the admin verbs do for a wrong `--data-dir`.
    static func refuse(_ message: String) -> ExitCode {
        printError("Error: report: \(message)\n".utf8)
        return ExitCode(2)
    }
}
