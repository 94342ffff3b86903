import ArgumentParser
import Foundation

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Real-time fraud scoring for account-to-account payments.",
        version: BuildInfo.description,
        subcommands: [
            ServeCommand.self, TenantCommand.self, SimulateCommand.self, FeaturesCommand.self, TrainCommand.self,
            EvaluateCommand.self, BenchCommand.self, ModelCommand.self, RulesCommand.self, EventsCommand.self, AuditCommand.self, KeysCommand.self,
            ConfigCommand.self, ReportCommand.self, FilesCommand.self, IntakeCommand.self, LabelsCommand.self, TrainingSetCommand.self,
            ISO20022Command.self,
        ]
    )
}

extension Vigil {
    /// Names a mistyped verb before ArgumentParser parses: it answers `vigil tenant lst` with "Unexpected argument",
    /// and hands `vigil features lst` to the default verb, `export`, which then asks for `--out`.
    static func main() async {
        if let message = unknownVerb(in: Array(CommandLine.arguments.dropFirst())) {
            printError("Error: \(message)\n".utf8)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(nil)
    }

    /// The first word in verb position that is not a verb of the command before it, as a message; nil when there is
    /// none. Walks the words up to the first option: a command with verbs takes only those (or `help`) next.
    static func unknownVerb(in arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = Vigil.self
        var path = "vigil"
        for word in arguments {
            let verbs: [any ParsableCommand.Type] = command.configuration.subcommands
            if word.hasPrefix("-") || verbs.isEmpty || word == "help" { return nil }
            var names: [String] = []
            var next: (any ParsableCommand.Type)? = nil
            for verb in verbs {
                let name = verb._commandName
                names.append(name)
                if name == word { next = verb }
            }
            guard let next else {
                var message = "unknown verb '\(word)': `\(path)` has \(names.joined(separator: ", "))"
                if let defaultVerb = command.configuration.defaultSubcommand {
                    message += " (\(defaultVerb._commandName) is the default)"
                }
                return message
            }
            command = next
            path += " " + word
        }
        return nil
    }
}

/// A failure the user can fix, printed without a stack trace.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
