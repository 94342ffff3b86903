import ArgumentParser
import Foundation
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilGateway
import VigilOffline

struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "Vigil's features: export them for a history, or list them.",
        subcommands: [Export.self, List.self], defaultSubcommand: Export.self
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a history in time order through the server's feature code and write one row per payment.",
            discussion: """
                Each row holds the payment's features as known before it, and its label as known at --label-cutoff \
                (default: every report). Rows that fail validation are reported on stderr with their line and skipped; \
                a repeated paymentId is skipped as the server would answer it as a duplicate.
                """
        )

        @OptionGroup var files: FileOptions
        @Option(help: "Where to write the feature CSV.") var out: String
        @Option(name: .customLong("label-cutoff"), help: "Only reports made by then count (RFC 3339 or YYYY-MM-DD).") var labelCutoff: String?
        @Option(help: "The tenant whose directory and account map (loaded daily files, or --files) the features read (default with --files: the tenant whose entitlements cover the row).")
        var tenant: String?

        func run() async throws {
            let cutoff = try labelCutoff.map { try parseDate($0, option: "--label-cutoff") }
            let rows = try files.readHistory()
            let labels = try files.readLabels(history: rows)
            let replay = HistoryReplay(gateway: try HistoryReplay.gateway(dataDirectory: files.dataDir))
            var writer = FeatureFileWriter()
            // The reference data the server had (the daily files it loaded, from its event log), or the --files folder's.
            let (reference, tenantOf) = try await files.reference(gateway: replay.gateway, tenant: tenant)
            let summary = try await replay.replay(rows, store: InMemoryFeatureStore(), reference: reference, tenantOf: tenantOf) { row, _, features in
                let label = labels[row.request.paymentId].flatMap { cutoff == nil || $0.reportedAt <= cutoff! ? $0 : nil }
                writer.append(row.request, features: features, label: label)
            }
            try writeFile(writer.text, to: out)
            printError(((
                "features: \(summary.replayed) row(s) written to \(out); \(summary.duplicates) repeated paymentId(s) skipped; "
                    + "\(summary.outOfOrder) row(s) were out of time order and replayed in order\n"
            ).utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every feature: name, reason code and description.")

        func run() async throws {
            for feature in Feature.allCases {
                print("\(feature.name)\t\(feature.reasonCode)\t\(feature.summary)")
            }
        }
    }
}
