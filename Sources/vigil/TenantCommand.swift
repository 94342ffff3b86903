import ArgumentParser
import VigilServer

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (banks).", subcommands: [Create.self, Token.self, APIKeys.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant and print its new API key (the only line on stdout; only its hash is stored)."
        )

        @Argument(help: "Tenant name: lower-case letters, digits, '-' or '_'.") var name: String
        @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String = "./data"

        func run() async throws {
            do {
                let key = try TenantDirectory(dataDirectory: dataDir).create(name: name)
                print(key)
            } catch {
                throw CLIError("tenant create: \(error)")
            }
        }
    }
}
