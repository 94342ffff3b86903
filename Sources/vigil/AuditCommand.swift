import ArgumentParser
import Foundation
import VigilServer

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log of administrative actions.", subcommands: [Export.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every audit record as one JSON line, after checking the hash chain.",
            discussion: "Exits non-zero, naming the first bad line, if a line was edited, inserted or deleted."
        )

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let plane = try await readableControlPlane("audit export", dataDir: data.dataDir, controlPlane: data.resolvedControlPlane)
            var out = StandardOutput()
            do {
                try AuditLog(plane: plane).forEach { line in
                    try out.write(line)
                    try out.write("\n")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                try out.flush()
                throw CLIError("audit export: \(error)")
            }
            try out.flush()
        }
    }
}
