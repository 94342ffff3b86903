import Foundation
import VigilDomain
import VigilFiles
import VigilGateway
import VigilSimulation

/// `vigil-microbench files [--payments N] [--chunk BYTES]`: rows per second of the daily-file parser on a simulated
/// history (parse + validate, as the intake pipeline runs it before tokenising), beside `HistoryReader.read` on the
/// same bytes (what `vigil features` does first). Parse and validate only: no tokenising, no loading.
struct FilesBenchmark {
    var payments = 200_000
    var chunk = 64 * 1024

    static let usage = "usage: vigil-microbench files [--payments N (default 200000)] [--chunk BYTES (default 65536)]"

    init(parsing arguments: ArraySlice<String>) throws(UsageError) {
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "--payments":
                guard let value = rest.popFirst().flatMap(Int.init), value >= 10 else { throw UsageError("--payments needs a whole number ≥ 10") }
                payments = value
            case "--chunk":
                guard let value = rest.popFirst().flatMap(Int.init), value >= 1 else { throw UsageError("--chunk needs a whole number ≥ 1") }
                chunk = value
            default:
                throw UsageError("unknown argument '\(argument)'")
            }
        }
    }

    func run() throws {
        let directory = NSTemporaryDirectory() + "vigil-files-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try simulate(SimulationConfiguration(seed: 1, payments: payments), historyTo: directory + "/history.csv", labelsTo: directory + "/labels.csv")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/history.csv")))
        print("vigil-microbench files --payments \(payments) --chunk \(chunk): \(bytes.count) bytes of simulated history")

        let clock = ContinuousClock()
        var best = Duration.seconds(1_000_000)
        var accepted = 0
        for _ in 0..<3 {
            var parser = DailyFileParser(type: .history)
            var rows = 0
            let elapsed = try clock.measure {
                var start = 0
                while start < bytes.count {
                    try parser.feed(bytes[start..<min(start + chunk, bytes.count)]) { _, _ in rows += 1 }
                    start += chunk
                }
                try parser.finish { _, _ in rows += 1 }
            }
            guard parser.rejected == 0 else { throw UsageError("the simulated history had \(parser.rejected) rejected rows: \(parser.rowErrors.prefix(3))") }
            accepted = rows
            best = min(best, elapsed)
        }
        print("  DailyFileParser (stream, parse + validate): \(Self.rate(accepted, best)) rows/s (\(accepted) rows, best of 3)")

        best = .seconds(1_000_000)
        for _ in 0..<3 {
            let elapsed = try clock.measure { accepted = try HistoryReader().read(bytes).summary.accepted }
            best = min(best, elapsed)
        }
        print("  HistoryReader.read (whole file): \(Self.rate(accepted, best)) rows/s (\(accepted) rows, best of 3)")
    }

    static func rate(_ rows: Int, _ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.0f", Double(rows) / (Double(seconds) + Double(attoseconds) / 1e18))
    }
}
