public import HTTPTypes

/// Applies tenants' usage plans: spends one request of a plan, or says why not. `UsageLimiter` keeps the buckets in
/// this process; an adapter (e.g. `VigilRedisState.RedisUsageLimiter`) keeps them where every node sees them.
public protocol UsageLimiting: Sendable {
    /// Spends one request of `tenant`'s plan, or says when to come back. No plan: admitted, no headers. It returns
    /// within a bounded time: a limiter whose store does not answer says ``UsageDecision/unavailable(reason:)``.
    func admit(tenant: String, plan: UsagePlan?) async -> UsageDecision

    /// Counts a payment found in the event log at start, so a restart does not reset the day's quota.
    func recordRecovered(tenant: String, atEpochSeconds seconds: Int64)
}

/// A limiter's answer for one request.
public enum UsageDecision: Sendable {
    /// Admitted; the fields (`RateLimit`, `RateLimit-Policy`) go on the answer.
    case admitted(HTTPFields)
    /// Past the rate or the daily quota: a `429` with `Retry-After` and the same fields.
    case limited(ProblemDetails)
    /// The limiter's store did not answer in its bounded time; nothing was spent. `reason` is for logs and never
    /// holds a submitted value.
    case unavailable(reason: String)
}

/// A tenant's allowance just after one request, as a limiter found it. Every limiter turns it into headers with
/// ``UsagePlan/decision(for:)``, so they all answer alike.
public struct UsageReading: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        case admitted, rateLimited, quotaExhausted
    }

    public var verdict: Verdict
    /// Tokens left in the bucket (a fraction while it refills).
    public var tokens: Double
    /// Requests spent in the current UTC day, this one included when admitted.
    public var dayCount: Int
    /// Seconds until the next 00:00 UTC, when the day's count resets.
    public var secondsUntilMidnight: Int

    public init(verdict: Verdict, tokens: Double, dayCount: Int, secondsUntilMidnight: Int) {
        self.verdict = verdict
        self.tokens = tokens
        self.dayCount = dayCount
        self.secondsUntilMidnight = secondsUntilMidnight
    }
}

extension UsagePlan {
    /// The answer for `reading`: `RateLimit` and `RateLimit-Policy` on every answer, and a `429` problem with
    /// `Retry-After` past the rate or the quota.
    public func decision(for reading: UsageReading) -> UsageDecision {
        var problem: ProblemDetails?
        switch reading.verdict {
        case .admitted:
            break
        case .quotaExhausted:
            problem = ProblemDetails(
                .quotaExhausted,
                "The tenant's daily quota of \(dailyQuota ?? 0) requests is used up; it resets at 00:00 UTC.",
                headers: [.retryAfter: String(reading.secondsUntilMidnight)]
            )
        case .rateLimited:
            let wait = max(1, Int(((1 - reading.tokens) / ratePerSecond).rounded(.up)))
            problem = ProblemDetails(
                .rateLimited,
                "The tenant's plan allows \(UsageLimiter.format(ratePerSecond)) requests a second with bursts of \(burst); slow down.",
                headers: [.retryAfter: String(wait)]
            )
        }
        var fields = problem?.headers ?? [:]
        fields[.rateLimitPolicy] = policyField
        let refill = max(0, Int(((Double(burst) - reading.tokens) / ratePerSecond).rounded(.up)))
        var current = #""burst";r=\#(Int(reading.tokens.rounded(.down)));t=\#(refill)"#
        if let dailyQuota {
            current += #", "daily";r=\#(max(0, dailyQuota - reading.dayCount));t=\#(reading.secondsUntilMidnight)"#
        }
        fields[.rateLimit] = current
        guard var problem else { return .admitted(fields) }
        problem.headers = fields
        return .limited(problem)
    }
}
