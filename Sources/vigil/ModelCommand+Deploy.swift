import ArgumentParser
import Foundation
import VigilEngine
import VigilProtection
import VigilServer

extension ModelCommand {
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy a model as the champion, the challenger (--shadow) or one tenant's champion (--tenant), with no restart.",
            discussion: """
                The file is checked first as a server loads it (XGBoost JSON, feature names Vigil computes, a valid \
                vigil_calibration) and refused when every tree is a single leaf (a constant model); a refused file \
                changes nothing. Then it is stored in the control plane (model-<version>.json) and models.json names it; \
                every running server swaps its models within a second, whole: each request is scored by the old set or \
                the new one, never a mix. Deploying the challenger's file as the champion promotes it and ends the \
                shadow. Recorded in the audit log as model.deploy (docs/models.md).
                """
        )

        @Argument(help: "The model file (XGBoost JSON, as `vigil train` writes it).") var file: String
        @Flag(help: "Deploy it as the challenger: scored in the shadow of every payment, logged, never answering.") var shadow = false
        @Option(help: "Deploy it as this tenant's own champion (the global champion stays the others').") var tenant: String?
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            guard !(shadow && tenant != nil) else { throw ValidationError("give --shadow or --tenant, not both") }
            if let tenant { try validateTenantName(tenant) }
        }

        func run() async throws {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("model deploy: cannot read \(file)") }
            let bytes = Array(contents)
            // Before the control plane is opened: a bad file is refused whatever the data directory.
            do {
                _ = try ModelRegistry.validate(bytes)
            } catch {
                throw CLIError("model deploy: \(file) is refused, nothing changed: \(error)")
            }
            let role: ModelRole = shadow ? .challenger : tenant.map { .tenant($0) } ?? .champion
            let bundle = try await administer("model deploy", data) { try $0.deployModel(bytes, as: role) }
            print("deployed \(bundle.version) as \(role)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the deployed models, one tab-separated line per role.",
            discussion: """
                Columns: role (champion, challenger, tenant:<name>), version, when deployed (UTC), by whom. Without a \
                deployed champion its line says `startup`: servers score with `vigil serve --model`, else the bundled model.
                """
        )

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let plane = try await readableControlPlane("model list", dataDir: data.dataDir, controlPlane: data.resolvedControlPlane)
            let models: ModelRegistry.Document
            do {
                models = try ModelRegistry(plane: plane).read()
            } catch {
                throw CLIError("model list: \(error)")
            }
            for line in Self.lines(models) { print(line) }
        }

        static func lines(_ models: ModelRegistry.Document) -> [String] {
            func line(_ role: String, _ deployment: ModelRegistry.Deployment) -> String {
                [role, deployment.version, deployment.deployedAt, deployment.deployedBy].joined(separator: "\t")
            }
            var lines = [models.champion.map { line("champion", $0) } ?? "champion\tstartup\t-\t-"]
            if let challenger = models.challenger { lines.append(line("challenger", challenger)) }
            for (tenant, deployment) in models.tenants.sorted(by: { $0.key < $1.key }) { lines.append(line("tenant:" + tenant, deployment)) }
            return lines
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire the challenger (--shadow) or a tenant's own champion (--tenant); servers follow within a second.",
            discussion: "The global champion is never retired, only replaced by `vigil model deploy`. Recorded as model.retire."
        )

        @Flag(help: "Retire the challenger: shadow scoring stops.") var shadow = false
        @Option(help: "Retire this tenant's champion: the tenant is scored by the global champion again.") var tenant: String?
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            guard shadow != (tenant != nil) else { throw ValidationError("give --shadow or --tenant T") }
            if let tenant { try validateTenantName(tenant) }
        }

        func run() async throws {
            let role: ModelRole = tenant.map { .tenant($0) } ?? .challenger
            let version = try await administer("model retire", data) { try $0.retireModel(role) }
            print("retired \(version) (\(role))")
        }
    }
}
