import Foundation
import HTTPTypes
import Synchronization
import Testing
import VigilRedis
import VigilRedisState
import VigilServer

/// One behaviour suite for every `UsageLimiting`: the in-process `UsageLimiter` on a test clock and the
/// `RedisUsageLimiter` on the test server's clock.
///
/// Redis's clock cannot be moved, so the plans are slow enough (one token per 100 s or slower) that the real time
/// a test takes changes no count and no header, and "time passing" moves the stored state instead: the bucket's
/// `updated` back by the seconds, the day's `day` back by one. That drives the same refill and reset code in the
/// script as real time would.
@Suite struct UsageLimitingTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, redis
        var testDescription: String { rawValue }

        func make() async throws -> any LimiterUnderTest {
            switch self {
            case .memory: return InProcessLimiter()
            case .redis: return try await RedisLimiter.make(url: RedisTestEnvironment.url())
            }
        }
    }

    func admitted(_ decisions: [UsageDecision]) -> [Bool] {
        decisions.map { if case .admitted = $0 { true } else { false } }
    }

    /// Whole seconds in `duration`, rounded up: how far the server's clock may have moved.
    static func wholeSeconds(_ duration: Duration) -> Int { Int(duration.components.seconds) + 1 }

    /// Whether `text` is a number of seconds in `expected - slack ... expected`.
    static func seconds(_ text: String?, near expected: Int, slack: Int) -> Bool {
        guard let text, let value = Int(text) else { return false }
        return (expected - slack...expected).contains(value)
    }

    @Test(arguments: Backend.allCases)
    func theBurstIsAdmittedThenRequestsAreLimited(_ backend: Backend) async throws {
        let limiter = try await backend.make()
        let tenant = RedisTestEnvironment.uniqueTenant()
        let plan = UsagePlan(ratePerSecond: 0.0001, burst: 3)
        var decisions: [UsageDecision] = []
        let started = ContinuousClock.now
        for _ in 0..<5 { decisions.append(await limiter.admit(tenant, plan)) }
        let slack = Self.wholeSeconds(ContinuousClock.now - started)
        #expect(admitted(decisions) == [true, true, true, false, false])
        guard case .limited(let problem) = decisions[4] else { Issue.record("not limited: \(decisions[4])"); return }
        #expect(problem.kind == .rateLimited)
        #expect(Self.seconds(problem.headers[.retryAfter], near: 10_000, slack: slack))
        await limiter.close(tenants: [tenant])
    }

    @Test(arguments: Backend.allCases)
    func theBucketRefillsAtTheRateUpToTheBurst(_ backend: Backend) async throws {
        let limiter = try await backend.make()
        let tenant = RedisTestEnvironment.uniqueTenant()
        let plan = UsagePlan(ratePerSecond: 0.01, burst: 3)
        var decisions: [UsageDecision] = []
        for _ in 0..<4 { decisions.append(await limiter.admit(tenant, plan)) }
        #expect(admitted(decisions) == [true, true, true, false])
        try await limiter.elapse(seconds: 100, tenant: tenant)  // one token
        decisions = []
        for _ in 0..<2 { decisions.append(await limiter.admit(tenant, plan)) }
        #expect(admitted(decisions) == [true, false])
        try await limiter.elapse(seconds: 100_000, tenant: tenant)  // full again, never more than the burst
        decisions = []
        for _ in 0..<4 { decisions.append(await limiter.admit(tenant, plan)) }
        #expect(admitted(decisions) == [true, true, true, false])
        await limiter.close(tenants: [tenant])
    }

    @Test(arguments: Backend.allCases)
    func theDailyQuotaIsExactAndResetsWithTheUTCDay(_ backend: Backend) async throws {
        let limiter = try await backend.make()
        let tenant = RedisTestEnvironment.uniqueTenant()
        let plan = UsagePlan(ratePerSecond: 1000, burst: 1000, dailyQuota: 2)
        var decisions: [UsageDecision] = []
        for _ in 0..<3 { decisions.append(await limiter.admit(tenant, plan)) }
        #expect(admitted(decisions) == [true, true, false])
        let before = try await limiter.secondsUntilMidnight()
        let refused = await limiter.admit(tenant, plan)
        let after = try await limiter.secondsUntilMidnight()
        guard case .limited(let problem) = refused else { Issue.record("not limited: \(refused)"); return }
        #expect(problem.kind == .quotaExhausted)
        let retryAfter = try #require(problem.headers[.retryAfter].flatMap(Int.init))
        #expect((after...before).contains(retryAfter))
        try await limiter.nextDay(tenant: tenant)
        guard case .admitted(let fields) = await limiter.admit(tenant, plan) else { Issue.record("not admitted after the day ended"); return }
        #expect(fields[HTTPField.Name("RateLimit")!]?.contains(#", "daily";r=1;t="#) == true)
        await limiter.close(tenants: [tenant])
    }

    @Test(arguments: Backend.allCases)
    func tenantsSpendOnlyTheirOwnAllowance(_ backend: Backend) async throws {
        let limiter = try await backend.make()
        let (a, b, c) = (RedisTestEnvironment.uniqueTenant(), RedisTestEnvironment.uniqueTenant(), RedisTestEnvironment.uniqueTenant())
        let plan = UsagePlan(ratePerSecond: 0.0001, burst: 2, dailyQuota: 2)
        var decisions: [UsageDecision] = []
        for _ in 0..<3 { decisions.append(await limiter.admit(a, plan)) }
        #expect(admitted(decisions) == [true, true, false])
        decisions = []
        for _ in 0..<3 { decisions.append(await limiter.admit(b, plan)) }
        #expect(admitted(decisions) == [true, true, false])
        // No plan: admitted, without headers, however often.
        for _ in 0..<5 {
            guard case .admitted(let fields) = await limiter.admit(c, nil) else { Issue.record("a tenant without a plan was refused"); return }
            #expect(fields.isEmpty)
        }
        await limiter.close(tenants: [a, b, c])
    }

    /// The exact `RateLimit`, `RateLimit-Policy` and `Retry-After` fields, the same for both limiters.
    @Test(arguments: Backend.allCases)
    func theHeadersAreTheSameForEveryLimiter(_ backend: Backend) async throws {
        let limiter = try await backend.make()
        let tenant = RedisTestEnvironment.uniqueTenant()
        let plan = UsagePlan(ratePerSecond: 0.0001, burst: 3, dailyQuota: 5)
        let policy = #""burst";q=3;w=30000, "daily";q=5;w=86400"#
        let started = ContinuousClock.now
        for (remaining, refill, daily) in [(2, 10_000, 4), (1, 20_000, 3), (0, 30_000, 2), (0, 30_000, 2)] {
            let before = try await limiter.secondsUntilMidnight()
            let decision = await limiter.admit(tenant, plan)
            let after = try await limiter.secondsUntilMidnight()
            let fields: HTTPFields
            switch decision {
            case .admitted(let admittedFields): fields = admittedFields
            case .limited(let problem):
                #expect(problem.kind == .rateLimited)
                #expect(Self.seconds(problem.headers[.retryAfter], near: 10_000, slack: Self.wholeSeconds(ContinuousClock.now - started)))
                fields = problem.headers
            case .unavailable(let reason):
                Issue.record("unavailable: \(reason)")
                return
            }
            #expect(fields[HTTPField.Name("RateLimit-Policy")!] == policy)
            let current = try #require(fields[HTTPField.Name("RateLimit")!])
            // The Redis limiter runs on the server's clock, which moves between requests: on a loaded machine a refill
            // time may come out a whole second or more under the round figure, never over it.
            let slack = Self.wholeSeconds(ContinuousClock.now - started)
            let burstHead = #""burst";r=\#(remaining);t="#
            #expect(current.hasPrefix(burstHead), "\(current)")
            let rest = current.dropFirst(burstHead.count)
            let parts = rest.split(separator: ",", maxSplits: 1)
            #expect(Self.seconds(parts.first.map(String.init), near: refill, slack: slack), "\(current)")
            let dailyHead = #" "daily";r=\#(daily);t="#
            let dailyPart = parts.count == 2 ? String(parts[1]) : ""
            #expect(dailyPart.hasPrefix(dailyHead), "\(current)")
            let untilMidnight = try #require(Int(dailyPart.dropFirst(dailyHead.count)))
            #expect((after...before).contains(untilMidnight))
        }
        await limiter.close(tenants: [tenant])
    }
}
