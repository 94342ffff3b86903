import ArgumentParser
import Foundation
import VigilEngine
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
                // The record's JSON object (a JSON record as stored, a binary one as its event's JSON form); the
                // sequence number is spliced in front.
                let json: [UInt8]
                do {
                    json = try EventCoding.exportJSON(payload)
                } catch {
                    throw CLIError("record \(sequence) is not an event this version reads: \(error)")
                }
                try out.write("{\"sequence\":\(sequence),")
                try out.write(json.dropFirst())
                try out.write("\n")
            }
            try out.flush()
        }
    }
}
