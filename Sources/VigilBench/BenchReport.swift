import Foundation

/// A load run's figures with the settings that produced them, as text for people or one JSON object for machines.
public struct BenchReport: Sendable {
    public var commandLine: String
    public var url: String
    public var method: String
    public var path: String
    public var mode: LoadPlan.Mode
    public var connections: Int
    public var threads: Int
    public var warmupSeconds: Double
    public var durationSeconds: Double
    public var result: LoadResult
    /// The server's resident set at the end of the run, when it is local and known.
    public var serverRssBytes: Int?

    public init(
        commandLine: String, url: String, method: String, path: String, mode: LoadPlan.Mode, connections: Int,
        threads: Int, warmupSeconds: Double, durationSeconds: Double, result: LoadResult, serverRssBytes: Int?
    ) {
        self.commandLine = commandLine
        self.url = url
        self.method = method
        self.path = path
        self.mode = mode
        self.connections = connections
        self.threads = threads
        self.warmupSeconds = warmupSeconds
        self.durationSeconds = durationSeconds
        self.result = result
        self.serverRssBytes = serverRssBytes
    }

    private var rate: Double? {
        if case .open(let rate) = mode { return rate }
        return nil
    }

    private var modeName: String { rate == nil ? "closed" : "open" }

    /// The human-readable report.
    public var text: String {
        var lines = ["command:       \(commandLine)"]
        lines.append("target:        \(method) \(url)\(path)")
        if let rate {
            lines.append("mode:          open loop, \(format(rate, 1)) requests/s over \(connections) connections")
        } else {
            lines.append("mode:          closed loop, \(connections) connections")
        }
        lines.append("duration:      \(format(durationSeconds, 1)) s after \(format(warmupSeconds, 1)) s warm-up, \(threads) event loops")
        lines.append("sent:          \(result.sent)")
        lines.append("ok:            \(result.ok)")
        let errorTotal = result.errors.values.reduce(0, +)
        let breakdown = result.errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        lines.append("errors:        \(errorTotal)\(breakdown.isEmpty ? "" : " (\(breakdown))")")
        lines.append("achieved rate: \(format(result.achievedRate, 1)) requests/s")
        if let l = result.latencyMs {
            lines.append(
                "latency (ms):  p50 \(format(l.p50, 3))  p90 \(format(l.p90, 3))  p99 \(format(l.p99, 3))  "
                    + "p99.9 \(format(l.p999, 3))  max \(format(l.max, 3))"
            )
        } else {
            lines.append("latency (ms):  no answers")
        }
        if url.contains(",") {
            lines.append("failover:      \(result.failovers) connection moves; longest gap without a 2xx answer \(format(result.longestGapMs, 0)) ms")
        }
        if let serverRssBytes {
            lines.append("server RSS:    \(format(Double(serverRssBytes) / 1_048_576, 1)) MiB")
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object: sent, ok, errors, achievedRate, latencyMs {p50, p90, p99, p999, max}, serverRssBytes (or
    /// null), mode, connections, rate (null in closed loop), durationSeconds and the settings.
    public var json: String {
        let members = [
            "\"command\":\(Self.jsonString(commandLine))",
            "\"url\":\(Self.jsonString(url + path))",
            "\"method\":\(Self.jsonString(method))",
            "\"mode\":\(Self.jsonString(modeName))",
            "\"connections\":\(connections)",
            "\"threads\":\(threads)",
            "\"rate\":\(rate.map(Self.jsonNumber) ?? "null")",
            "\"warmupSeconds\":\(Self.jsonNumber(warmupSeconds))",
            "\"durationSeconds\":\(Self.jsonNumber(durationSeconds))",
            "\"serverRssBytes\":\(serverRssBytes.map(String.init) ?? "null")",
        ]
        let result = Self.resultJSON(result)
        // The result's members follow the settings in the same object.
        return "{" + members.joined(separator: ",") + "," + result.dropFirst()
    }

    /// A run's figures as one JSON object: sent, ok, errors by status or kind, achievedRate and latencyMs
    /// {p50, p90, p99, p999, max} (null when nothing was answered).
    static func resultJSON(_ result: LoadResult) -> String {
        let errors = result.errors.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\($0.value)" }.joined(separator: ",")
        let latency = result.latencyMs.map {
            "{\"p50\":\(jsonNumber($0.p50)),\"p90\":\(jsonNumber($0.p90)),\"p99\":\(jsonNumber($0.p99)),"
                + "\"p999\":\(jsonNumber($0.p999)),\"max\":\(jsonNumber($0.max))}"
        } ?? "null"
        return "{\"sent\":\(result.sent),\"ok\":\(result.ok),\"errors\":{\(errors)},"
            + "\"achievedRate\":\(jsonNumber(result.achievedRate)),\"latencyMs\":\(latency),"
            + "\"failovers\":\(result.failovers),\"longestGapMs\":\(jsonNumber(result.longestGapMs))}"
    }

    static func jsonNumber(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "null" }

    static func jsonString(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        return String(array.dropFirst().dropLast())
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
