import Foundation
import VigilDomain
import VigilEngine
import VigilFeatures

/// Resident memory of the duplicate index per remembered payment: `DuplicateIndex.reserve` then `record`, as
/// `ScoringEngine.score` does, for `payments` distinct payment ids of 8 tenants, none expiring.
///
/// Each answer looks like a real one (seeded, the same every run): a lower-case UUID score id, five reasons with
/// contributions rounded to 1e-6, one model version, a processing time under 5 ms, and a rule firing on one
/// payment in a hundred. Each is built, recorded and dropped, so the growth between the readings is the index's.
struct DuplicateMemory {
    let payments: Int

    struct Result {
        var payments: Int
        var entries: Int
        /// RssAnon before the first payment and after the last, in bytes, each read after handing free memory back.
        var residentBefore: Int
        var residentAfter: Int

        var growth: Int { residentAfter - residentBefore }
        var bytesPerPayment: Double { Double(growth) / Double(payments) }
    }

    /// Runs the workload; nil where `/proc/self/status` has no `RssAnon`.
    func run() -> Result? {
        let features = Feature.allCases
        let tenants = (0..<8).map { "bank-\($0)" }
        let start: Int64 = 1_795_000_000_000

        Heap.trim()
        guard let before = Heap.residentAnonymousBytes() else { return nil }
        var index: DuplicateIndex? = DuplicateIndex()
        for n in 0..<payments {
            let h = FeatureMemory.mix(UInt64(n), 31)
            let tenant = tenants[Int(h & 7)]
            let paymentId = "E2E-\(String(FeatureMemory.mix(UInt64(n), 32), radix: 36))"
            let at = start + Int64(n) * 86_400_000 / Int64(max(1, payments))
            guard index!.reserve(tenant: tenant, paymentId: paymentId, fingerprint: h, nowMillis: at) == .reserved else { continue }
            let reasons = (0..<5).map { i in
                let feature = features[Int(FeatureMemory.mix(h, UInt64(40 + i)) % UInt64(features.count))]
                let contribution = ((FeatureMemory.unit(FeatureMemory.mix(h, UInt64(50 + i))) * 2) * 1e6).rounded() / 1e6
                return Reason(code: feature.reasonCode, feature: feature.name, contribution: contribution)
            }
            let response = ScoreResponse(
                paymentId: paymentId, scoreId: UUID().uuidString.lowercased(), score: Int((h >> 20) % 1000),
                decision: .allow, reasons: reasons, rules: h % 100 == 0 ? [RuleFiring(name: "big-amount", outcome: .review)] : [],
                duplicate: false, modelVersion: "xgb-2026-11-01", processingMicros: Int((h >> 40) % 5000)
            )
            index!.record(tenant: tenant, paymentId: paymentId, fingerprint: h, response: response, atMillis: at)
        }
        Heap.trim()
        guard let after = Heap.residentAnonymousBytes() else { return nil }
        let result = Result(payments: payments, entries: index!.count, residentBefore: before, residentAfter: after)
        index = nil
        Heap.trim()
        return result
    }
}
