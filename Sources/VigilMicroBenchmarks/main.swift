import Foundation
import VigilEngine

// vigil-microbench: the cost of each stage of Vigil's per-payment path, then `ScoringEngine.score` end to end
// on one core and on all cores. Run it from a release build; see BENCHMARKS.md.

let options: Options
do {
    options = try Options(parsing: Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("vigil-microbench: \(error)\n\(Options.usage)\n".utf8))
    exit(2)
}

do {
    try await MicroBenchmark(options: options).run()
} catch {
    FileHandle.standardError.write(Data("vigil-microbench: \(error)\n".utf8))
    exit(1)
}
