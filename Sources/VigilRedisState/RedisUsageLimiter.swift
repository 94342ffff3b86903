import HTTPTypes
public import VigilRedis
public import VigilServer

/// Applies tenants' usage plans in Redis or Valkey, so a tenant's rate and daily quota hold across every node
/// rather than per process. One script call per request spends the token bucket and the UTC-day count together,
/// atomically, on the server's clock (`TIME`), so the nodes' clocks do not matter. The buckets and counts answer
/// exactly as `UsageLimiter`'s do (the same ``UsagePlan/decision(for:)``), headers included.
///
/// Keys, both under the tenant's hash tag so that they share one cluster slot (see docs/redis.md):
/// - `<prefix>{<tenant>}:rate`: a hash `tokens`, `updated` (µs); it expires once the bucket would be full again;
/// - `<prefix>{<tenant>}:day`: a hash `day` (days since 1970, UTC), `count`; it expires at the end of that day.
///
/// A store that is down or slow gives ``UsageDecision/unavailable(reason:)`` within the client's bounds: its
/// `connectTimeout` and `commandTimeout` (which must not be `nil`, or a silent server holds the request).
public final class RedisUsageLimiter: UsageLimiting {
    /// A key prefix that would break the hash tag.
    public struct InvalidPrefix: Error, CustomStringConvertible {
        public var description: String
    }

    let client: RedisClient
    /// What every key starts with, `vigil:` by default.
    public let keyPrefix: String

    /// - Parameter keyPrefix: Starts every key; it may not hold `{` or `}`, which would move the hash tag.
    /// - Throws: ``InvalidPrefix`` for a prefix with a brace.
    public init(client: RedisClient, keyPrefix: String = "vigil:") throws(InvalidPrefix) {
        guard !keyPrefix.contains("{"), !keyPrefix.contains("}") else {
            throw InvalidPrefix(description: "the Redis key prefix may not contain '{' or '}' (it would move the cluster hash tag)")
        }
        self.client = client
        self.keyPrefix = keyPrefix
    }

    /// The bucket's key and the day count's key of `tenant`. Tenant names go in as they are; a brace in one moves
    /// the hash tag for both keys alike, so they still share a slot.
    public func keys(tenant: String) -> (rate: String, day: String) {
        ("\(keyPrefix){\(tenant)}:rate", "\(keyPrefix){\(tenant)}:day")
    }

    public func admit(tenant: String, plan: UsagePlan?) async -> UsageDecision {
        guard let plan else { return .admitted([:]) }
        let (rate, day) = keys(tenant: tenant)
        let reply: RedisValue
        do {
            reply = try await client.eval(
                Self.script, keys: [RedisArgument(rate), RedisArgument(day)],
                arguments: [RedisArgument(String(plan.ratePerSecond)), RedisArgument(plan.burst), RedisArgument(plan.dailyQuota ?? 0)]
            )
        } catch {
            return .unavailable(reason: "usage-plan store: \(error.code)")
        }
        guard let reading = Self.reading(reply) else { return .unavailable(reason: "usage-plan store: unexpected reply") }
        return plan.decision(for: reading)
    }

    /// Does nothing: the day's count lives in Redis, shared by every node and kept across restarts, so it already
    /// holds the payments a node finds in its own event log at start. Counting them again would count them twice.
    public func recordRecovered(tenant: String, atEpochSeconds seconds: Int64) {}

    static func reading(_ reply: RedisValue) -> UsageReading? {
        guard let fields = reply.array, fields.count == 4, let tokens = fields[1].string.flatMap(Double.init),
            let count = fields[2].int, let untilMidnight = fields[3].int
        else { return nil }
        let verdict: UsageReading.Verdict
        switch fields[0].string {
        case "admitted": verdict = .admitted
        case "rate": verdict = .rateLimited
        case "quota": verdict = .quotaExhausted
        default: return nil
        }
        return UsageReading(verdict: verdict, tokens: tokens, dayCount: Int(count), secondsUntilMidnight: Int(untilMidnight))
    }

    /// The bucket refills continuously, as `UsageLimiter`'s does; tokens travel as `%.17g` text, which a Double
    /// reads back exactly (a Lua number returned as such would be truncated to an integer). A bucket that would
    /// take longer than 366 days to refill expires then, full: a plan that slow is a mistake, and memory stays bounded.
    static let script = RedisScript("""
        -- Vigil usage plan: KEYS[1] the tenant's token bucket, KEYS[2] its UTC-day count.
        -- ARGV: rate per second, burst, daily quota (0 for none).
        -- Returns {verdict ('admitted', 'rate' or 'quota'), tokens left, day count, seconds to 00:00 UTC}.
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local quota = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local seconds = tonumber(time[1])
        local now = seconds * 1000000 + tonumber(time[2])
        local day = math.floor(seconds / 86400)
        local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
        local tokens = tonumber(bucket[1])
        local updated = tonumber(bucket[2])
        if tokens == nil or updated == nil then
          tokens = burst
          updated = now
        end
        tokens = math.min(burst, tokens + math.max(0, now - updated) * rate / 1000000)
        local count = 0
        local stored = redis.call('HMGET', KEYS[2], 'day', 'count')
        if tonumber(stored[1]) == day then
          count = tonumber(stored[2]) or 0
        end
        local verdict = 'admitted'
        if quota > 0 and count >= quota then
          verdict = 'quota'
        elseif tokens < 1 then
          verdict = 'rate'
        else
          tokens = tokens - 1
          count = count + 1
        end
        local refill = math.ceil((burst - tokens) / rate * 1000)
        if refill > 0 then
          redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated', string.format('%.0f', now))
          redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.min(refill, 31622400000)))
        else
          redis.call('DEL', KEYS[1])
        end
        local midnight = (day + 1) * 86400
        redis.call('HSET', KEYS[2], 'day', string.format('%.0f', day), 'count', string.format('%.0f', count))
        redis.call('EXPIREAT', KEYS[2], string.format('%.0f', midnight))
        return {verdict, string.format('%.17g', tokens), count, midnight - seconds}
        """)
}
