import Foundation

/// Plain-text formatting of the figures, as Markdown tables that can go straight into BENCHMARKS.md.
enum Report {
    /// `812 ns` below a microsecond, `12.3 µs` above.
    static func duration(nanos: Double) -> String {
        nanos < 1_000 ? "\(Int(nanos.rounded())) ns" : String(format: nanos < 10_000 ? "%.2f µs" : "%.1f µs", nanos / 1_000)
    }

    /// A whole number with thousands separators: `1,234,567`.
    static func count(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    static func stageTable(_ results: [StageResult]) -> String {
        var lines = ["| stage | per payment (median) | payments/s | batches |", "|---|---|---|---|"]
        for result in results {
            let m = result.measurement
            lines.append("| \(result.name) | \(duration(nanos: m.nanosPerPayment)) | \(count(m.perSecond)) | \(m.batches) |")
        }
        return lines.joined(separator: "\n")
    }

    static func endToEndTable(_ rows: [(name: String, result: EndToEnd.Result)]) -> String {
        var lines = ["| ScoringEngine.score | scores/s (median batch) | per score | batches | scores |", "|---|---|---|---|---|"]
        for (name, result) in rows {
            let m = result.measurement
            lines.append("| \(name) | \(count(m.perSecond)) | \(duration(nanos: m.nanosPerPayment)) | \(m.batches) | \(count(Double(result.scored))) |")
        }
        return lines.joined(separator: "\n")
    }
}
