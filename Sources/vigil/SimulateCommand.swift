import ArgumentParser
import Foundation
import VigilDomain
import VigilSimulation

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic payment history with delayed fraud labels (history.csv, labels.csv) and daily files.",
        discussion: """
            Banks, customers and their everyday payments, with APP scams, account takeovers, mule accounts and \
            first-party disputes woven in. Under DIR/files, each simulated institution's daily files (fraud-reports, \
            status, entitlements, account-map) in a folder named as its tenant, and one directory file for all. \
            The same arguments always write byte-identical files.
            """
    )

    @Option(help: "Random seed; the same seed gives the same files.") var seed: UInt64
    @Option(help: "Number of payments (rows of history.csv).") var payments: Int
    @Option(help: "Directory for history.csv, labels.csv and files/; created when missing.") var out: String
    @Option(help: "First instant of the period, RFC 3339.") var start: String = "2026-01-01T00:00:00Z"
    @Option(help: "Length of the period in days (default: payments / 20000, at least 14).") var days: Int?

    func run() async throws {
        guard let startInstant = Instant(rfc3339: start) else {
            throw CLIError("--start must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z")
        }
        guard payments > 0 else { throw CLIError("--payments must be positive") }
        if let days, days <= 0 { throw CLIError("--days must be positive") }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create directory \(out)")
        }
        let configuration = SimulationConfiguration(seed: seed, payments: payments, start: startInstant, days: days)
        let began = ContinuousClock.now
        let summary: SimulationSummary
        do {
            summary = try simulate(
                configuration, historyTo: out + "/history.csv", labelsTo: out + "/labels.csv", dailyFilesTo: out + "/files"
            )
        } catch {
            throw CLIError(error.message)
        }
        let elapsed = ContinuousClock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("\(summary) in \(String(format: "%.2f", seconds)) s")
        if let files = summary.dailyFiles { print("\(files) in \(out)/files") }
    }
}
