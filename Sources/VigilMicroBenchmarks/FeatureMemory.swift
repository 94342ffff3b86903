import Foundation
import VigilDomain
import VigilFeatures

/// Resident memory of the feature state when many distinct accounts pay: `FeatureExtractor.observe` with an
/// `InMemoryFeatureStore`, fed payments built directly as `TokenizedPayment`s with random tokens.
///
/// The workload (seeded, the same every run): `debtors` distinct debtor accounts pay creditors drawn from a
/// population a tenth as large, skewed so that a few payees receive many payments (a fifth of the creditors are
/// themselves debtors of the workload, paid person to person). A debtor pays 1 (60 %), 2 (25 %), 3 (10 %) or 6
/// (5 %) times at uniformly random moments over two days, the first time to its usual payee, later ones to the
/// usual payee or a fresh draw (even odds). Amounts are log-uniform from 1 to 2,000 GBP. 70 % of payments
/// carry the debtor's own device, 90 % an IP from a pool of a quarter as many as there are debtors. Payments are
/// observed in time order.
///
/// The plan of who pays when is laid out before the first reading; each payment is built as it is observed
/// and dropped, so the growth between the readings is the store's. `vigil-microbench recovery --debtors` scores the
/// same payments (``payment(_:of:)`` over ``makePlan()``) through `ScoringEngine`.
struct FeatureMemory {
    let debtors: Int
    static let days = 2

    struct Result {
        var debtors: Int
        var creditors: Int
        var payments: Int
        var keys: (accounts: Int, pairs: Int, entities: Int)
        /// RssAnon before the first payment and after the last, in bytes.
        var residentBefore: Int
        var residentAfter: Int
        /// The store's own count of the bytes it holds, by kind.
        var footprint: FeatureStoreFootprint

        var growth: Int { residentAfter - residentBefore }
        /// The figure the target is about: all resident growth (accounts, pairs, devices and IPs) ÷ account keys.
        var bytesPerAccount: Double { Double(growth) / Double(keys.accounts) }
    }

    var creditors: Int { max(1, debtors / 10) }
    var ips: Int { max(1, debtors / 4) }

    /// Runs the workload; nil where `/proc/self/status` has no `RssAnon`.
    func run() async throws -> Result? {
        let plan = makePlan()

        Heap.trim()
        guard let before = Heap.residentAnonymousBytes() else { return nil }
        var store: InMemoryFeatureStore? = InMemoryFeatureStore()
        let extractor = FeatureExtractor(store: store!)
        var features: [Double] = []
        for (n, step) in plan.enumerated() {
            try await extractor.observe(payment(n, of: step), into: &features)
        }
        guard let after = Heap.residentAnonymousBytes() else { return nil }
        let result = Result(
            debtors: debtors, creditors: creditors, payments: plan.count, keys: store!.counts,
            residentBefore: before, residentAfter: after, footprint: store!.footprint()
        )
        store = nil
        withExtendedLifetime(plan) {}
        Heap.trim()
        return result
    }

    /// Payment `n` of the workload, the plan's step `step`, as a `TokenizedPayment` with random-looking tokens.
    func payment(_ n: Int, of step: Step) -> TokenizedPayment {
        let d = UInt64(step.debtor)
        let h = Self.mix(d << 8 | UInt64(step.index), 5)
        let payee = step.index == 0 || h & 1 == 0 ? usualPayee(of: d) : drawCreditor(Self.mix(h, 6))
        let minorUnits = Int64((100 * pow2000(Self.unit(Self.mix(h, 7)))).rounded())
        return TokenizedPayment(
            paymentId: "f\(n)", perspective: .sending, type: .push, scheme: "FPS", channel: "mobile",
            amount: Money(minorUnits: max(100, minorUnits), currency: gbp),
            createdAt: Instant(epochMillis: (Self.start + Int64(step.second)) * 1000 + Int64(h >> 54)),
            debtor: TokenizedParty(account: Self.token(1, d), sealedAccount: sealed, agent: banks[Int(Self.mix(d, 8) & 15)]),
            creditor: TokenizedParty(account: creditorToken(payee), sealedAccount: sealed),
            confirmationOfPayee: .match,
            device: Self.mix(h, 9) % 10 < 7 ? Self.token(3, d) : nil,
            ip: Self.mix(h, 10) % 10 < 9 ? Self.token(4, Self.mix(h, 11) % UInt64(ips)) : nil
        )
    }

    /// The start of the period, in seconds since the epoch.
    static let start: Int64 = 1_795_000_000
    let sealed = SealedValue(keyVersion: 1, bytes: [UInt8](repeating: 7, count: 28))
    let gbp = Currency(code: "GBP")!
    let banks = (0..<16).map { "BANK\($0)GB2L" }

    /// One payment of the plan: debtor `debtor`'s `index`-th payment, `second` seconds into the period.
    struct Step {
        var second: UInt32
        var debtor: UInt32
        var index: UInt8
    }

    func makePlan() -> [Step] {
        var plan: [Step] = []
        plan.reserveCapacity(debtors * 18 / 10)
        let period = UInt64(Self.days * 86_400)
        for d in 0..<UInt64(debtors) {
            let roll = Self.mix(d, 1) % 100
            let count = roll < 60 ? 1 : roll < 85 ? 2 : roll < 95 ? 3 : 6
            for i in 0..<UInt64(count) {
                plan.append(Step(second: UInt32(Self.mix(d << 8 | i, 2) % period), debtor: UInt32(d), index: UInt8(i)))
            }
        }
        plan.sort { ($0.second, $0.debtor, $0.index) < ($1.second, $1.debtor, $1.index) }
        return plan
    }

    func usualPayee(of debtor: UInt64) -> Int { drawCreditor(Self.mix(debtor, 3)) }

    /// A creditor index, skewed towards low (popular) indices: density ∝ 1/√index.
    func drawCreditor(_ random: UInt64) -> Int {
        let u = Self.unit(random)
        return min(creditors - 1, Int(Double(creditors) * u * u))
    }

    /// Creditor `index`'s account: the first fifth are debtors of the workload (person-to-person payments).
    func creditorToken(_ index: Int) -> Token {
        index < creditors / 5 ? Self.token(1, Self.mix(UInt64(index), 4) % UInt64(debtors)) : Self.token(2, UInt64(index))
    }

    /// `2000^u`: log-uniform from 1 to 2,000.
    func pow2000(_ u: Double) -> Double { pow(2000, u) }

    /// A random-looking token for identity `n` of a namespace (1 debtors, 2 creditors, 3 devices, 4 IPs).
    static func token(_ namespace: UInt64, _ n: UInt64) -> Token {
        let seed = namespace << 56 ^ n
        return Token(a: mix(seed, 21), b: mix(seed, 22), c: mix(seed, 23), d: mix(seed, 24))
    }

    /// SplitMix64's finaliser over `value` and a stream number.
    static func mix(_ value: UInt64, _ stream: UInt64) -> UInt64 {
        var z = value &+ stream &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1) from the top 53 bits.
    static func unit(_ random: UInt64) -> Double { Double(random >> 11) / 9_007_199_254_740_992 }
}
