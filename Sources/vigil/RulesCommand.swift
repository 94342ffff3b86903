import ArgumentParser
import Foundation
import VigilEngine
import VigilRules

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Work with rule files.", subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a rule file against Vigil's operands.")

        @Argument(help: "The rule file.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            guard let source = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
            do {
                let rules = try TenantPolicy.compileRules(source)
                print("\(file): \(rules.rules.count) rule(s) OK")
            } catch {
                throw CLIError("\(file): \(error)")
            }
        }
    }
}
