import Foundation
import VigilEvaluation

/// One step of a closed-loop sweep: the server's ceiling (`GET /health`) and scoring, at the same connection count.
public struct ScalingPoint: Sendable {
    public var connections: Int
    public var health: LoadResult
    public var score: LoadResult

    public init(connections: Int, health: LoadResult, score: LoadResult) {
        self.connections = connections
        self.health = health
        self.score = score
    }

    /// Scoring throughput as a share of the health ceiling; nil when the ceiling answered nothing.
    public var ratio: Double? {
        health.achievedRate > 0 ? score.achievedRate / health.achievedRate : nil
    }
}

/// The closed-loop scaling curve: throughput and p99 of scoring and of `/health` at each connection count, as a
/// Markdown table, one JSON object, or an SVG chart.
public struct ScalingReport: Sendable {
    public var commandLine: String
    public var url: String
    public var threads: Int
    public var warmupSeconds: Double
    public var durationSeconds: Double
    public var points: [ScalingPoint]
    /// The server's resident set after the sweep, when it is local and known.
    public var serverRssBytes: Int?

    public init(
        commandLine: String, url: String, threads: Int, warmupSeconds: Double, durationSeconds: Double,
        points: [ScalingPoint], serverRssBytes: Int?
    ) {
        self.commandLine = commandLine
        self.url = url
        self.threads = threads
        self.warmupSeconds = warmupSeconds
        self.durationSeconds = durationSeconds
        self.points = points
        self.serverRssBytes = serverRssBytes
    }

    /// A Markdown table, one row per connection count, under the command that produced it.
    public var markdown: String {
        var lines = [
            "command: \(commandLine)",
            "closed loop against \(url); each step \(format(warmupSeconds, 1)) s warm-up + \(format(durationSeconds, 1)) s "
                + "measured, GET /health first, then POST /v1/payments/score; \(threads) client event loops",
            "",
            "| connections | scores/s | score p50 | score p99 | score p99.9 | score errors | /health req/s | /health p99 | score ÷ health |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for point in points {
            let errors = point.score.errors.values.reduce(0, +)
            lines.append(
                "| \(point.connections) | \(format(point.score.achievedRate, 0)) | \(milliseconds(point.score.latencyMs?.p50)) | "
                    + "\(milliseconds(point.score.latencyMs?.p99)) | \(milliseconds(point.score.latencyMs?.p999)) | \(errors) | "
                    + "\(format(point.health.achievedRate, 0)) | \(milliseconds(point.health.latencyMs?.p99)) | "
                    + "\(point.ratio.map { format($0 * 100, 1) + "%" } ?? "–") |"
            )
        }
        if let serverRssBytes {
            lines.append("")
            lines.append("server RSS after the sweep: \(format(Double(serverRssBytes) / 1_048_576, 1)) MiB")
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object: the settings and, per step, `connections`, `ratio` and the two runs in `vigil bench --json`'s
    /// figures (`achievedRate`, `ok`, `errors`, `latencyMs`).
    public var json: String {
        let steps = points.map { point in
            "{\"connections\":\(point.connections),\"ratio\":\(point.ratio.map(BenchReport.jsonNumber) ?? "null"),"
                + "\"health\":\(BenchReport.resultJSON(point.health)),\"score\":\(BenchReport.resultJSON(point.score))}"
        }
        let members = [
            "\"command\":\(BenchReport.jsonString(commandLine))",
            "\"url\":\(BenchReport.jsonString(url))",
            "\"mode\":\"sweep\"",
            "\"threads\":\(threads)",
            "\"warmupSeconds\":\(BenchReport.jsonNumber(warmupSeconds))",
            "\"durationSeconds\":\(BenchReport.jsonNumber(durationSeconds))",
            "\"steps\":[\(steps.joined(separator: ","))]",
            "\"serverRssBytes\":\(serverRssBytes.map(String.init) ?? "null")",
        ]
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Throughput against connections (log scale) for scoring and for `/health`, each scoring point labelled with
    /// its p99.
    public var svg: String {
        let counts = points.map { Double($0.connections) }
        let low = max(1, counts.min() ?? 1)
        let high = max(low * 2, counts.max() ?? 2)
        let peak = points.map { max($0.score.achievedRate, $0.health.achievedRate) }.max() ?? 0
        let top = Self.niceCeiling(max(peak * 1.15, 10))
        var chart = SVGChart(
            title: "Closed-loop throughput by connection count",
            subtitle: "vigil bench --sweep, \(format(durationSeconds, 0)) s a step; labels: scoring p99",
            x: .logarithmic(low / 1.5, high * 2), y: .linear(0, top)
        )
        let yTicks = stride(from: 0.0, through: top, by: top / 5).map { ($0, format($0, 0)) }
        chart.axes(
            xTicks: points.map { (Double($0.connections), String($0.connections)) }, yTicks: yTicks,
            xLabel: "keep-alive connections (one request in flight on each)", yLabel: "answers per second"
        )
        let healthColour = "#999999"
        let scoreColour = "#1f5fa8"
        chart.polyline(points.map { (Double($0.connections), $0.health.achievedRate) }, stroke: healthColour, width: 2, dash: "5 4")
        chart.polyline(points.map { (Double($0.connections), $0.score.achievedRate) }, stroke: scoreColour, width: 2)
        for point in points {
            chart.marker(.square, at: (Double(point.connections), point.health.achievedRate), fill: healthColour)
            chart.marker(
                .circle, at: (Double(point.connections), point.score.achievedRate), fill: scoreColour,
                label: "p99 " + milliseconds(point.score.latencyMs?.p99)
            )
        }
        chart.legend(
            [
                (.line(healthColour, dash: "5 4"), "GET /health (the server's ceiling)"),
                (.line(scoreColour, dash: nil), "POST /v1/payments/score"),
            ],
            corner: .topRight
        )
        return chart.rendered()
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, (log10(value)).rounded(.down))
        for step in [1.0, 2, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private func milliseconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        return format(value, value < 10 ? 2 : 1) + " ms"
    }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
