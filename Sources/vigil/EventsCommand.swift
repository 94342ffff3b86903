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
            try requireDataDirectory("events export", data.dataDir)
            let directory = data.dataDir + "/events"
            guard FileManager.default.fileExists(atPath: directory) else { throw CLIError("no event log at \(directory)") }
            var out = FileHandleOutput()
            try FileEventLog.read(directory: directory) { sequence, payload in
                // Events are JSON objects; the sequence number is spliced in front without re-encoding.
                guard payload.first == UInt8(ascii: "{") else {
                    throw CLIError("record \(sequence) is not a JSON object")
                }
                out.write("{\"sequence\":\(sequence),")
                out.write(payload.dropFirst())
                out.write("\n")
            }
            out.flush()
        }
    }
}

/// Buffered stdout for large exports.
struct FileHandleOutput {
    var buffer: [UInt8] = []

    mutating func write(_ text: String) { buffer.append(contentsOf: text.utf8) }
    mutating func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count > 1 << 16 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
