import ArgumentParser
import Foundation
import VigilEventLog

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Read the event log.", subcommands: [Export.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every event-log record as one JSON line: the event with its sequence number."
        )

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            // A node on a shared control plane keeps its tenants there, not in its data directory; its events are here.
            if (data.resolvedControlPlane ?? "files") == "files" { try requireDataDirectory("events export", data.dataDir) }
            let directory = data.dataDir + "/events"
            guard FileManager.default.fileExists(atPath: directory) else { throw CLIError("no event log at \(directory)") }
            var out = StandardOutput()
            try FileEventLog.read(directory: directory) { sequence, payload in
                // Events are JSON objects; the sequence number is spliced in front without re-encoding.
                guard payload.first == UInt8(ascii: "{") else {
                    throw CLIError("record \(sequence) is not a JSON object")
                }
                try out.write("{\"sequence\":\(sequence),")
                try out.write(payload.dropFirst())
                try out.write("\n")
            }
            try out.flush()
        }
    }
}
