import ArgumentParser
import Foundation
import VigilDomain
import VigilEngine
import VigilEvaluation
import VigilEventLog
import VigilFeatures
import VigilGateway
import VigilOffline
import VigilRules
import VigilServer

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a held-out period of history through the real engine, rules included, and report how well it catches fraud.",
        discussion: """
            Every payment in the history is replayed in time order so that features see the full past; payments created \
            at or after --from are scored (model, calibration, the tenant's thresholds and rules) and compared with every \
            fraud report in --labels. The report (Markdown, or JSON with --json) is printed and written with its ROC, \
            precision-recall and score-distribution plots (SVG) into --out. It warns on stderr (and in the report) \
            when the scores are nearly constant or their calibration is far off.
            """
    )

    @OptionGroup var files: FileOptions
    @Option(help: "The model (XGBoost JSON, as written by `vigil train`).") var model: String
    @Option(help: "Score payments created at or after this instant (RFC 3339 or YYYY-MM-DD; default: all).") var from: String?
    @Option(help: "Directory for evaluation.md, evaluation.json and the SVG plots; created when missing.") var out: String = "evaluation"
    @Option(help: "Use this tenant's thresholds and rules from --data-dir (default: the defaults a new tenant gets).") var tenant: String?
    @Flag(help: "Print the JSON report instead of Markdown.") var json = false

    func run() async throws {
        let start = try from.map { try parseDate($0, option: "--from") }
        let bundle = try ModelBundle.load(path: model)
        let policy = try tenantPolicy()
        let rows = try files.readHistory()
        let labels = try files.readLabels(history: rows)
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: bundle)
        let replay = HistoryReplay(gateway: try HistoryReplay.gateway(dataDirectory: files.dataDir))
        var examples: [ScoredExample] = []
        var first: Instant?
        var last: Instant?
        let (reference, tenantOf) = try await files.reference(gateway: replay.gateway, tenant: tenant)
        _ = try await replay.replay(rows, store: InMemoryFeatureStore(), reference: reference, tenantOf: tenantOf) { row, payment, features in
            guard start == nil || payment.createdAt >= start! else { return }
            let (probability, response) = engine.assess(payment, features: features, tenant: policy, model: bundle)
            let label = labels[payment.paymentId]
            first = first ?? payment.createdAt
            last = payment.createdAt
            examples.append(ScoredExample(
                score: response.score, probability: probability, decision: response.decision.rawValue, isFraud: label != nil,
                fraudType: label?.fraudType.rawValue, perspective: payment.perspective.rawValue,
                amount: payment.amount.majorUnits, day: String(payment.createdAt.rfc3339UTC.prefix(10)),
                paymentId: payment.paymentId, reasons: Self.distinct(response.reasons.map(\.code)), rules: response.rules.map(\.name)
            ))
        }
        let period = "\(first?.rfc3339UTC ?? "–") to \(last?.rfc3339UTC ?? "–")"
        let report = EvaluationReport(
            examples: examples, modelVersion: bundle.version, period: period,
            policy: DecisionPolicy(
                reviewThreshold: policy.reviewThreshold, blockThreshold: policy.blockThreshold,
                ruleNames: policy.rules.rules.map(\.name)
            )
        )
        for warning in report.warnings {
            printError(("warning: \(warning.message)\n".utf8))
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for file in report.files() { try writeFile(file.contents, to: out + "/" + file.name) }
        if json {
            try StandardOutput.print(report.json())
            print()
        } else {
            print(report.markdown())
        }
    }

    /// `codes` without repeats, in order: several features share a reason code, and an analyst needs it once.
    static func distinct(_ codes: [String]) -> [String] {
        var seen: Set<String> = []
        return codes.filter { seen.insert($0).inserted }
    }

    func tenantPolicy() throws -> TenantPolicy {
        guard let tenant else {
            let defaults = TenantConfig.Thresholds(review: 600, block: 900)
            return TenantPolicy(
                name: "evaluation", reviewThreshold: defaults.review, blockThreshold: defaults.block,
                rules: try TenantPolicy.compileRules(TenantConfig.defaultRules)
            )
        }
        guard let dataDir = files.dataDir else { throw CLIError("--tenant needs --data-dir") }
        guard let found = try TenantDirectory(dataDirectory: dataDir).load().byName[tenant] else {
            throw CLIError("no tenant '\(tenant)' in \(dataDir)/tenants.json")
        }
        return found.policy
    }
}
