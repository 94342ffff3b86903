import Dispatch
import Foundation
public import HTTPTypes
import Synchronization

/// A tenant's usage plan: a token bucket (sustained rate and burst) and an optional daily quota (UTC days).
public struct UsagePlan: Sendable, Codable, Equatable {
    /// Requests a second the bucket refills at.
    public var ratePerSecond: Double
    /// The bucket's size: requests that may arrive at once after a quiet spell.
    public var burst: Int
    /// Scoring requests per UTC day; nil for none.
    public var dailyQuota: Int?

    public init(ratePerSecond: Double, burst: Int, dailyQuota: Int? = nil) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.dailyQuota = dailyQuota
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public func validate() throws {
        guard ratePerSecond.isFinite, ratePerSecond > 0, ratePerSecond <= 1_000_000 else {
            throw Invalid(description: "plan.ratePerSecond must be more than 0 and at most 1000000")
        }
        guard (1...10_000_000).contains(burst) else { throw Invalid(description: "plan.burst must be 1–10000000") }
        if let dailyQuota, dailyQuota < 1 { throw Invalid(description: "plan.dailyQuota must be at least 1 (omit it for none)") }
    }

    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-09): the bucket as a quota of `burst` per the time
    /// it takes to refill, and the daily quota per 86,400 s.
    var policyField: String {
        let window = max(1, Int((Double(burst) / ratePerSecond).rounded(.up)))
        var field = #""burst";q=\#(burst);w=\#(window)"#
        if let dailyQuota { field += #", "daily";q=\#(dailyQuota);w=86400"# }
        return field
    }
}

/// Where the limiter reads time: a monotonic clock for the bucket and the wall clock for the UTC day.
public protocol UsageClock: Sendable {
    var monotonicNanoseconds: UInt64 { get }
    var epochSeconds: Int64 { get }
}

public struct SystemUsageClock: UsageClock {
    public init() {}
    // Glibc's `timespec` is not used here: in a whole-module (release) build the compiler finds it in Dispatch's
    // C module and refuses it under MemberImportVisibility.
    public var monotonicNanoseconds: UInt64 { DispatchTime.now().uptimeNanoseconds }
    public var epochSeconds: Int64 { Int64(Date().timeIntervalSince1970.rounded(.down)) }
}

/// Applies each tenant's plan in this process. Each tenant has its own bucket and day count, so one tenant's traffic
/// never spends another's allowance. Buckets survive tenant reloads (keyed by name); a changed plan applies from the
/// next request. Several nodes each apply the full plan: `VigilRedisState.RedisUsageLimiter` shares it.
public final class UsageLimiter: UsageLimiting {
    struct Usage {
        var tokens: Double
        var updated: UInt64
        var day: Int64
        var dayCount: Int
    }

    public typealias Decision = UsageDecision

    let clock: any UsageClock
    private let usage = Mutex<[String: Usage]>([:])

    public init(clock: any UsageClock = SystemUsageClock()) {
        self.clock = clock
    }

    /// Spends one request of `tenant`'s plan, or says when to come back. No plan: admitted, no headers. Never
    /// ``UsageDecision/unavailable(reason:)``.
    public func admit(tenant: String, plan: UsagePlan?) -> Decision {
        guard let plan else { return .admitted([:]) }
        let now = clock.monotonicNanoseconds
        let epoch = clock.epochSeconds
        let today = epoch.floorDivided(by: 86_400)
        let untilMidnight = Int((today + 1) * 86_400 - epoch)
        let reading = usage.withLock { table in
            var entry = table[tenant] ?? Usage(tokens: Double(plan.burst), updated: now, day: today, dayCount: 0)
            let elapsed = Double(now &- entry.updated) / 1e9
            entry.tokens = min(Double(plan.burst), entry.tokens + elapsed * plan.ratePerSecond)
            entry.updated = now
            if entry.day != today {
                entry.day = today
                entry.dayCount = 0
            }
            let verdict: UsageReading.Verdict
            if let quota = plan.dailyQuota, entry.dayCount >= quota {
                verdict = .quotaExhausted
            } else if entry.tokens < 1 {
                verdict = .rateLimited
            } else {
                verdict = .admitted
                entry.tokens -= 1
                entry.dayCount += 1
            }
            table[tenant] = entry
            return UsageReading(verdict: verdict, tokens: entry.tokens, dayCount: entry.dayCount, secondsUntilMidnight: untilMidnight)
        }
        return plan.decision(for: reading)
    }

    /// Counts a payment found in the event log at start, so a restart does not reset the day's quota.
    public func recordRecovered(tenant: String, atEpochSeconds seconds: Int64) {
        let today = clock.epochSeconds.floorDivided(by: 86_400)
        guard seconds.floorDivided(by: 86_400) == today else { return }
        usage.withLock { table in
            var entry = table[tenant] ?? Usage(tokens: .infinity, updated: clock.monotonicNanoseconds, day: today, dayCount: 0)
            entry.dayCount += 1
            table[tenant] = entry
        }
    }

    /// Each tenant's count of the current day, for a snapshot.
    public func dayCounts() -> [UsageDayCount] {
        usage.withLock { table in
            table.map { UsageDayCount(tenant: $0.key, day: $0.value.day, count: $0.value.dayCount) }.sorted { $0.tenant < $1.tenant }
        }
    }

    /// Counts, again, what a snapshot recorded for today (other days are over): a restart does not reset the quota.
    public func recordRecovered(_ counts: [UsageDayCount]) {
        let today = clock.epochSeconds.floorDivided(by: 86_400)
        usage.withLock { table in
            for entry in counts where entry.day == today {
                var usage = table[entry.tenant] ?? Usage(tokens: .infinity, updated: clock.monotonicNanoseconds, day: today, dayCount: 0)
                usage.dayCount += entry.count
                table[entry.tenant] = usage
            }
        }
    }

    /// How many requests `tenant` has spent today.
    public func dayCount(tenant: String) -> Int {
        let today = clock.epochSeconds.floorDivided(by: 86_400)
        return usage.withLock { table in table[tenant].map { $0.day == today ? $0.dayCount : 0 } ?? 0 }
    }

    static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(rate)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}

extension HTTPField.Name {
    static let rateLimit = HTTPField.Name("RateLimit")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
}
