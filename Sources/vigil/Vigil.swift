import ArgumentParser

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Real-time fraud scoring for account-to-account payments.",
        version: BuildInfo.description,
        subcommands: [
            ServeCommand.self, TenantCommand.self, SimulateCommand.self, FeaturesCommand.self, TrainCommand.self,
            EvaluateCommand.self, BenchCommand.self, ModelCommand.self, RulesCommand.self, EventsCommand.self, AuditCommand.self, KeysCommand.self,
            ConfigCommand.self,
        ]
    )
}

/// A failure the user can fix, printed without a stack trace.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
