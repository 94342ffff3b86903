import Synchronization
import Testing
import VigilRedis
import VigilRedisState
import VigilServer

/// A limiter under test, with a way to let time pass for it.
protocol LimiterUnderTest: Sendable {
    func admit(_ tenant: String, _ plan: UsagePlan?) async -> UsageDecision
    /// Lets `seconds` pass for `tenant`'s bucket (not for its day).
    func elapse(seconds: Double, tenant: String) async throws
    /// Ends the UTC day for `tenant`'s count.
    func nextDay(tenant: String) async throws
    /// Seconds to the next 00:00 UTC on the limiter's clock.
    func secondsUntilMidnight() async throws -> Int
    func close(tenants: [String]) async
}

/// `UsageLimiter` on a clock the test moves; it starts at noon UTC, so no elapse crosses a day by accident.
struct InProcessLimiter: LimiterUnderTest {
    final class TestClock: UsageClock {
        let nanos = Mutex<UInt64>(1_000_000_000)
        let seconds = Mutex<Int64>(1_795_046_400 + 43_200)
        var monotonicNanoseconds: UInt64 { nanos.withLock { $0 } }
        var epochSeconds: Int64 { seconds.withLock { $0 } }
    }

    let clock = TestClock()
    let limiter: UsageLimiter

    init() { limiter = UsageLimiter(clock: clock) }

    func admit(_ tenant: String, _ plan: UsagePlan?) async -> UsageDecision {
        await (limiter as any UsageLimiting).admit(tenant: tenant, plan: plan)
    }

    func elapse(seconds: Double, tenant: String) {
        clock.nanos.withLock { $0 += UInt64(seconds * 1e9) }
    }

    func nextDay(tenant: String) {
        clock.seconds.withLock { $0 = ($0 / 86_400 + 1) * 86_400 }
    }

    func secondsUntilMidnight() -> Int {
        let now = clock.epochSeconds
        return Int((now / 86_400 + 1) * 86_400 - now)
    }

    func close(tenants: [String]) async {}
}

/// `RedisUsageLimiter` on the test server; time passes by moving the stored state back.
struct RedisLimiter: LimiterUnderTest {
    let client: RedisClient
    let limiter: RedisUsageLimiter

    static func make(url: RedisURL) async throws -> RedisLimiter {
        let client = try await RedisClient.connect(url: url)
        return RedisLimiter(client: client, limiter: try RedisUsageLimiter(client: client))
    }

    func admit(_ tenant: String, _ plan: UsagePlan?) async -> UsageDecision {
        await limiter.admit(tenant: tenant, plan: plan)
    }

    func elapse(seconds: Double, tenant: String) async throws {
        let key = RedisArgument(limiter.keys(tenant: tenant).rate)
        // A missing bucket is a full one; moving it would only create a bucket with no tokens field.
        guard try await client.send("EXISTS", key).int == 1 else { return }
        _ = try await client.send("HINCRBY", key, "updated", RedisArgument(-Int64(seconds * 1_000_000)))
    }

    func nextDay(tenant: String) async throws {
        _ = try await client.send("HINCRBY", RedisArgument(limiter.keys(tenant: tenant).day), "day", "-1")
    }

    func secondsUntilMidnight() async throws -> Int {
        let seconds = try #require(try await client.send("TIME").array?.first?.int)
        return Int((seconds / 86_400 + 1) * 86_400 - seconds)
    }

    func close(tenants: [String]) async {
        for tenant in tenants {
            let (rate, day) = limiter.keys(tenant: tenant)
            _ = try? await client.send("DEL", RedisArgument(rate), RedisArgument(day))
        }
        await client.close()
    }
}
