import Foundation
import VigilFeatures

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

    static func featureMemory(_ result: FeatureMemory.Result) -> String {
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        let accounts = count(Double(result.keys.accounts))
        let perAccount = count(result.bytesPerAccount)
        var lines: [String] = []
        lines.append(
            "feature state memory: FeatureExtractor.observe into one InMemoryFeatureStore; \(count(Double(result.debtors))) distinct "
                + "debtors pay \(count(Double(result.creditors))) creditors, \(count(Double(result.payments))) payments over "
                + "\(FeatureMemory.days) days in time order (workload: FeatureMemory.swift)"
        )
        lines.append("")
        let f = result.footprint
        func share(_ bytes: Int, _ keys: Int) -> String { keys > 0 ? count(Double(bytes) / Double(keys)) : "–" }
        lines.append("| kind | keys held | bytes held (store's count) | per key | per active account |")
        lines.append("|---|---|---|---|---|")
        lines.append(
            "| accounts (debtors + creditors holding state) | \(accounts) | \(mib(f.accounts)) | \(share(f.accounts, result.keys.accounts)) "
                + "| \(share(f.accounts, result.keys.accounts)) |"
        )
        lines.append(
            "| debtor→creditor pairs | \(count(Double(result.keys.pairs))) | \(mib(f.pairs)) | \(share(f.pairs, result.keys.pairs)) "
                + "| \(share(f.pairs, result.keys.accounts)) |"
        )
        lines.append(
            "| devices and IPs | \(count(Double(result.keys.entities))) | \(mib(f.entities)) | \(share(f.entities, result.keys.entities)) "
                + "| \(share(f.entities, result.keys.accounts)) |"
        )
        lines.append("| all | | \(mib(f.total)) | | \(share(f.total, result.keys.accounts)) |")
        lines.append("")
        lines.append("| RssAnon before | RssAnon after | growth | growth ÷ account keys |")
        lines.append("|---|---|---|---|")
        lines.append("| \(mib(result.residentBefore)) | \(mib(result.residentAfter)) | \(mib(result.growth)) | \(perAccount) bytes |")
        lines.append("")
        lines.append(
            "bytes per active account = RssAnon growth over the run (everything the store holds: accounts, pairs, devices and "
                + "IPs, with the allocator's overhead) ÷ account keys (\(accounts)) = \(perAccount) bytes. The store's own count "
                + "(tables and history arrays as malloc sizes them, without free or fragmented heap) splits it by kind; its "
                + "debtor/creditor split: \(mib(f.debtorParts)) / \(mib(f.creditorParts)). A pair of a debtor that paid once "
                + "is implied by that payment and holds no bytes of its own."
        )
        return lines.joined(separator: "\n")
    }

    static func duplicateMemory(_ result: DuplicateMemory.Result) -> String {
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return [
            "duplicate index memory: DuplicateIndex.reserve + record of \(count(Double(result.payments))) distinct payment ids "
                + "(8 tenants, 5 reasons each, 1 % with a rule firing; workload: DuplicateMemory.swift)",
            "",
            "| RssAnon before | RssAnon after | growth | entries | growth ÷ payments |",
            "|---|---|---|---|---|",
            "| \(mib(result.residentBefore)) | \(mib(result.residentAfter)) | \(mib(result.growth)) | \(count(Double(result.entries))) "
                + "| \(count(result.bytesPerPayment)) bytes |",
        ].joined(separator: "\n")
    }
}
