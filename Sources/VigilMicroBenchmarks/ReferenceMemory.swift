import Foundation
import VigilDomain
import VigilFeatures

/// Resident memory of the in-process reference store per entry, by kind: `entries` account links (one customer per
/// two accounts), then `entries` reported accounts with two reports each, then `entries / 10` directory rows, each
/// kind read between `Heap.trim()`s so its growth is its own.
struct ReferenceMemory {
    let entries: Int

    struct Result {
        var entries: Int
        var links: Int
        var reportedAccounts: Int
        var directoryRows: Int

        var bytesPerLink: Double { Double(links) / Double(entries) }
        var bytesPerReportedAccount: Double { Double(reportedAccounts) / Double(entries) }
        var bytesPerDirectoryRow: Double { Double(directoryRows) / Double(entries / 10) }
    }

    static func token(_ n: UInt64, _ kind: UInt64) -> Token {
        Token(a: FeatureMemory.mix(n, kind), b: FeatureMemory.mix(n, kind + 1), c: n, d: kind)
    }

    func run() -> Result? {
        let store = InMemoryReferenceStore()
        Heap.trim()
        guard let start = Heap.residentAnonymousBytes() else { return nil }
        for n in 0..<UInt64(entries) {
            store.link(AccountLink(account: Self.token(n, 1), customer: Self.token(n / 2, 3)), tenant: "bank-\(n % 8)")
        }
        Heap.trim()
        guard let afterLinks = Heap.residentAnonymousBytes() else { return nil }
        for n in 0..<UInt64(entries) {
            for report in 0..<2 as Range<UInt64> {
                store.addReport(creditor: Self.token(n, 5), report: n &* 2 &+ report, reportedAt: Instant(epochMillis: 1_795_000_000_000 + Int64(n)), knownAt: Instant(epochMillis: 1_795_000_000_000 + Int64(n)))
            }
        }
        Heap.trim()
        guard let afterReports = Heap.residentAnonymousBytes() else { return nil }
        for n in 0..<entries / 10 {
            let code = String(100_000 + n % 900_000)
            store.upsert(
                DirectoryEntry(code: InstitutionCode(type: .sortCode, value: code), institution: "Example Bank plc branch \(n)", type: .bank, status: .active),
                tenant: "bank-\(n / 900_000)"
            )
        }
        Heap.trim()
        guard let afterDirectory = Heap.residentAnonymousBytes() else { return nil }
        precondition(store.counts.accountLinks == entries)
        return Result(entries: entries, links: afterLinks - start, reportedAccounts: afterReports - afterLinks, directoryRows: afterDirectory - afterReports)
    }
}
