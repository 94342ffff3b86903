import ArgumentParser
import Foundation
import VigilDomain
import VigilServer

extension TenantCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tenants, one tab-separated line each.",
            discussion: """
                Columns: name, perspectives, review threshold, block threshold, API keys (accepted or refused), the \
                ids of its API keys (the first 12 hex digits of each key's SHA-256; '-' for none), usage plan \
                (rate/burst/daily quota, or none), allowed networks (or any), bound client certificates (a count), regions (or any).
                """
        )

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let plane = try await readableControlPlane("tenant list", dataDir: data.dataDir, controlPlane: data.resolvedControlPlane)
            let tenants: [String: Tenant]
            do {
                tenants = try TenantDirectory(plane: plane).load().byName
            } catch {
                throw CLIError("tenant list: \(error)")
            }
            for name in tenants.keys.sorted() {
                print(Self.line(tenants[name]!.config))
            }
        }

        static func line(_ config: TenantConfig) -> String {
            let plan = config.plan.map { "\($0.ratePerSecond)/\($0.burst)/\($0.dailyQuota.map(String.init) ?? "none")" } ?? "none"
            let keyIDs = config.apiKeyHashes.map(TenantConfig.keyID(hash:))
            return [
                config.name,
                config.perspectives.map(\.rawValue).joined(separator: ","),
                String(config.thresholds.review),
                String(config.thresholds.block),
                config.acceptAPIKeys == false ? "refused" : "accepted",
                keyIDs.isEmpty ? "-" : keyIDs.joined(separator: ","),
                plan,
                config.allowedNetworks?.joined(separator: ",") ?? "any",
                String(config.clientCertificates?.count ?? 0),
                config.regions?.joined(separator: ",") ?? "any",
            ].joined(separator: "\t")
        }
    }

    struct Thresholds: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the scores at which a tenant's payments become review and block (0 ≤ review ≤ block ≤ 1000).",
            discussion: "Give --review, --block or both; the other keeps its value. A running server picks the change up within a second."
        )

        @Argument(help: "Tenant name.") var name: String
        @Option(help: "Score at or above which a payment is review.") var review: Int?
        @Option(help: "Score at or above which a payment is block.") var block: Int?
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            try validateTenantName(name)
            guard review != nil || block != nil else { throw ValidationError("give --review, --block or both") }
            for (option, value) in [("--review", review), ("--block", block)] {
                if let value, !(0...1000).contains(value) { throw ValidationError("\(option) must be between 0 and 1000") }
            }
            if let review, let block, review > block { throw ValidationError("--review must not be above --block") }
        }

        func run() async throws {
            try await administer("tenant thresholds", data) { try $0.setThresholds(name: name, review: review, block: block) }
        }
    }

    struct Perspectives: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the perspectives a tenant may score from: sending, receiving or both (others get 403).",
            discussion: "A running server picks the change up within a second."
        )

        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "Comma-separated: sending, receiving or sending,receiving.") var perspectives: String
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            try validateTenantName(name)
            _ = try parsed()
        }

        func parsed() throws -> [Perspective] {
            let names = perspectives.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var result: [Perspective] = []
            for name in names {
                guard let perspective = Perspective(rawValue: name) else {
                    throw ValidationError("perspectives must be sending, receiving or sending,receiving")
                }
                guard !result.contains(perspective) else { throw ValidationError("perspective \(name) is given twice") }
                result.append(perspective)
            }
            return result
        }

        func run() async throws {
            let perspectives = try parsed()
            try await administer("tenant perspectives", data) { try $0.setPerspectives(name: name, perspectives: perspectives) }
        }
    }
}
