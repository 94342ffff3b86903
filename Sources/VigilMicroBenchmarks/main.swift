import Foundation
import VigilEngine

// vigil-microbench: the cost of each stage of Vigil's per-payment path, then `ScoringEngine.score` end to end
// on one core and on all cores. Run it from a release build; see BENCHMARKS.md.

// `vigil-microbench recovery …`: time to ready after N payments, snapshot + tail against a full replay.
if CommandLine.arguments.dropFirst().first == "recovery" {
    let recovery: RecoveryBenchmark.Options
    do {
        recovery = try RecoveryBenchmark.Options(parsing: CommandLine.arguments.dropFirst(2))
    } catch {
        FileHandle.standardError.write(Data("vigil-microbench: \(error)\n\(RecoveryBenchmark.Options.usage)\n".utf8))
        exit(2)
    }
    do {
        try await RecoveryBenchmark(options: recovery).run()
    } catch {
        FileHandle.standardError.write(Data("vigil-microbench: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

// `vigil-microbench files …`: rows per second of the daily-file parser on a simulated history.
if CommandLine.arguments.dropFirst().first == "files" {
    do {
        try FilesBenchmark(parsing: CommandLine.arguments.dropFirst(2)).run()
    } catch let error as UsageError {
        FileHandle.standardError.write(Data("vigil-microbench: \(error)\n\(FilesBenchmark.usage)\n".utf8))
        exit(2)
    } catch {
        FileHandle.standardError.write(Data("vigil-microbench: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

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
