import ArgumentParser
import Foundation
import VigilDomain
import VigilEngine
import VigilReporting
import VigilServer
import VigilTraining

extension ModelCommand {
    struct Monitor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report drift and alert quality for the payments scored in a period, from the event log.",
            discussion: """
                Reads DATA/events/ offline. Compares the payments received from --from up to --to with the training \
                profile stored in the model (vigil_training_profile, written by `vigil train`): the PSI of the served \
                scores (payments the model scored) and of each feature, highest first, with the bands below 0.1 \
                stable, 0.1–0.25 moderate and 0.25 and above significant. Per tenant it counts the alerts (review or \
                block), the payments reported as fraud so far (daily-file fraud reports and FRAD returns anywhere in the \
                log) and the alerts' precision and recall. docs/monitoring.md explains the figures.
                """
        )

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Payments received at or after this instant (RFC 3339 or YYYY-MM-DD).") var from: String
        @Option(help: "Payments received before this instant (RFC 3339 or YYYY-MM-DD).") var to: String
        @Option(help: "The model whose training profile to compare with (XGBoost JSON; default: the bundled model).") var model: String?
        @Option(help: "text or json.") var format: String = "text"

        func run() async throws {
            let (period, source) = try ModelCommand.period(from: from, to: to, data: data)
            guard format == "text" || format == "json" else { throw ModelCommand.refuse("--format must be text or json") }
            let bundle = try ModelCommand.load(model)
            let profile: TrainingProfile?
            do {
                profile = try bundle.trainingProfile()
            } catch {
                throw CLIError("\(model ?? "the bundled model"): its vigil_training_profile attribute is invalid: \(error)")
            }
            var monitor = ModelMonitor(profile: profile, modelVersion: bundle.version, period: period)
            try await ModelCommand.read(source) { monitor.add($0) }
            let report = monitor.report()
            try StandardOutput.print(format == "json" ? report.json() + "\n" : report.text())
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare a champion and a challenger model on the labelled payments of a period, from the event log.",
            discussion: """
                Reads DATA/events/ offline. Every payment received from --from up to --to (degraded answers left out) \
                is scored again by each model from the features logged with it, exactly as the engine scored it; a \
                payment is fraud when a daily-file fraud report or FRAD return anywhere in the log names it. For each \
                model: ROC-AUC, recall at 1% false-positive rate, and per tenant the alerts (score at or above its \
                review threshold) and blocks at its thresholds in DATA/tenants.json (600 and 900 for a tenant not there).
                """
        )

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Payments received at or after this instant (RFC 3339 or YYYY-MM-DD).") var from: String
        @Option(help: "Payments received before this instant (RFC 3339 or YYYY-MM-DD).") var to: String
        @Option(help: "The champion model (XGBoost JSON; default: the bundled model).") var champion: String?
        @Option(help: "The challenger model (XGBoost JSON).") var challenger: String
        @Option(help: "text or json.") var format: String = "text"

        func run() async throws {
            let (period, source) = try ModelCommand.period(from: from, to: to, data: data)
            guard format == "text" || format == "json" else { throw ModelCommand.refuse("--format must be text or json") }
            var thresholds: [String: ModelComparison.Thresholds] = [:]
            if FileManager.default.fileExists(atPath: data.dataDir + "/tenants.json") {
                let table: TenantTable
                do {
                    table = try TenantDirectory(dataDirectory: data.dataDir).load()
                } catch {
                    throw CLIError("\(data.dataDir)/tenants.json: \(error)")
                }
                for (name, tenant) in table.byName {
                    thresholds[name] = .init(review: tenant.policy.reviewThreshold, block: tenant.policy.blockThreshold)
                }
            }
            var comparison = ModelComparison(
                candidates: [
                    .init(role: "champion", model: try ModelCommand.load(champion)),
                    .init(role: "challenger", model: try ModelCommand.load(challenger)),
                ],
                thresholds: thresholds, defaultThresholds: .init(review: 600, block: 900), period: period
            )
            try await ModelCommand.read(source) { comparison.add($0) }
            let report = comparison.report()
            try StandardOutput.print(format == "json" ? report.json() + "\n" : report.text())
        }
    }

    /// The period `--from`/`--to` name and the data directory's event log; exits 2 for a wrong option or directory.
    static func period(from: String, to: String, data: DataDirectoryOption) throws -> (LabelledPeriod, EventLogDirectorySource) {
        let start: Instant
        let end: Instant
        do {
            start = try parseDate(from, option: "--from")
            end = try parseDate(to, option: "--to")
        } catch let error as CLIError {
            throw ModelCommand.refuse(error.description)
        }
        guard start.epochMillis < end.epochMillis else { throw ModelCommand.refuse("--from must be before --to") }
        let directory = data.dataDir + "/events"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ModelCommand.refuse("no event log at \(directory) (a node writes one when it first serves)")
        }
        return (LabelledPeriod(from: start, to: end), EventLogDirectorySource(directory: directory))
    }

    /// Says what is wrong with the options and exits 2, as `vigil report` does.
    static func refuse(_ message: String) -> ExitCode {
        printError("Error: model: \(message)\n".utf8)
        return ExitCode(2)
    }

    static func load(_ path: String?) throws -> ModelBundle {
        do {
            return try path.map { try ModelBundle.load(path: $0) } ?? ModelBundle.bundled()
        } catch {
            throw CLIError("\(path ?? "the bundled model"): \(error)")
        }
    }

    static func read(_ source: EventLogDirectorySource, _ body: (LoggedEvent) -> Void) async throws {
        do {
            try await source.forEachEvent(body)
        } catch let error as ReportError {
            throw CLIError("model: \(error)")
        }
    }
}
