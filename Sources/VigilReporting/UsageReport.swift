public import VigilDomain
public import VigilEngine

/// What one tenant did on one UTC day, as the event log tells it.
public struct TenantDayUsage: Sendable, Equatable {
    public var tenant: String
    public var day: UTCDay
    /// Payments scored (one per scored-payment event).
    public var scored = 0
    /// Of ``scored``, those scored from the sending and from the receiving bank's side.
    public var sending = 0
    public var receiving = 0
    /// Of ``scored``, by final decision.
    public var allow = 0
    public var review = 0
    public var block = 0
    /// Exact retries answered with their original answer (duplicate-answered events); not scored, not billed.
    public var duplicates = 0
    /// Scored payments that were not duplicates: what the tenant is billed for (docs/reporting.md).
    public var billableUnits = 0
    /// How often each rule fired, by rule name.
    public var ruleFirings: [String: Int] = [:]
    /// The median and 99th percentile of the scored payments' `processingMicros`, exact (nearest rank over the day's
    /// values); nil on a day with nothing scored.
    public var p50Micros: Int?
    public var p99Micros: Int?

    public init(tenant: String, day: UTCDay) {
        self.tenant = tenant
        self.day = day
    }
}

/// One tenant's billing month: the rows of `vigil report --monthly`.
public struct TenantMonthUsage: Sendable, Equatable {
    public var tenant: String
    /// `YYYY-MM`.
    public var month: String
    public var billableUnits = 0
    public var scored = 0
    public var duplicates = 0

    public init(tenant: String, month: String) {
        self.tenant = tenant
        self.month = month
    }
}

/// The per-tenant, per-day report of a range of UTC days.
public struct UsageReport: Sendable, Equatable {
    /// The first and last day reported, both included.
    public var from: UTCDay
    public var to: UTCDay
    /// The one tenant reported, or nil for all.
    public var tenant: String?
    /// By tenant, then day; only tenant-days with at least one event.
    public var days: [TenantDayUsage]

    public init(from: UTCDay, to: UTCDay, tenant: String?, days: [TenantDayUsage]) {
        self.from = from
        self.to = to
        self.tenant = tenant
        self.days = days
    }

    /// The days summed into billing months, by tenant, then month.
    public var months: [TenantMonthUsage] {
        var months: [TenantMonthUsage] = []
        for day in days {
            let month = day.day.month
            if months.last?.tenant != day.tenant || months.last?.month != month {
                months.append(TenantMonthUsage(tenant: day.tenant, month: month))
            }
            months[months.count - 1].billableUnits += day.billableUnits
            months[months.count - 1].scored += day.scored
            months[months.count - 1].duplicates += day.duplicates
        }
        return months
    }
}

/// Folds events into a ``UsageReport``: the same code whatever ``ReportEventSource`` they come from.
public struct UsageAggregator: Sendable {
    public let from: UTCDay
    public let to: UTCDay
    public let tenant: String?

    private struct Key: Hashable {
        var tenant: String
        var day: UTCDay
    }

    private var usage: [Key: TenantDayUsage] = [:]
    private var micros: [Key: [Int]] = [:]

    /// - Parameters:
    ///   - from, to: the first and last UTC day to count (by `receivedAt`), both included.
    ///   - tenant: count only this tenant's events; nil for every tenant.
    public init(from: UTCDay, to: UTCDay, tenant: String? = nil) {
        self.from = from
        self.to = to
        self.tenant = tenant
    }

    /// Counts one event, if it is in the range and of the tenant asked for.
    public mutating func add(_ event: LoggedEvent) {
        // Loaded daily-file records, labels and challengers' shadow scores are neither scored requests nor billed.
        if event.isReferenceData { return }
        if case .shadow = event { return }
        let day = UTCDay(event.receivedAt)
        guard day >= from, day <= to, tenant == nil || event.tenant == tenant else { return }
        let key = Key(tenant: event.tenant, day: day)
        var row = usage[key] ?? TenantDayUsage(tenant: event.tenant, day: day)
        switch event {
        case .intake, .label, .shadow:
            return
        case .duplicateAnswered:
            row.duplicates += 1
        case .scored(let scored):
            row.scored += 1
            switch scored.request.perspective {
            case .sending: row.sending += 1
            case .receiving: row.receiving += 1
            }
            switch scored.response.decision {
            case .allow: row.allow += 1
            case .review: row.review += 1
            case .block: row.block += 1
            }
            // Logged answers are never duplicates today; the check keeps the definition if one ever is.
            if !scored.response.duplicate { row.billableUnits += 1 }
            for firing in scored.response.rules { row.ruleFirings[firing.name, default: 0] += 1 }
            micros[key, default: []].append(scored.response.processingMicros)
        }
        usage[key] = row
    }

    /// Reads every event of `source` into the aggregator.
    public mutating func add(from source: some ReportEventSource) async throws {
        try await source.forEachEvent { self.add($0) }
    }

    /// The report so far.
    public func report() -> UsageReport {
        var days: [TenantDayUsage] = []
        days.reserveCapacity(usage.count)
        for (key, var row) in usage {
            if let values = micros[key], !values.isEmpty {
                let sorted = values.sorted()
                row.p50Micros = Self.nearestRank(sorted, percent: 50)
                row.p99Micros = Self.nearestRank(sorted, percent: 99)
            }
            days.append(row)
        }
        days.sort { ($0.tenant, $0.day.daysSinceEpoch) < ($1.tenant, $1.day.daysSinceEpoch) }
        return UsageReport(from: from, to: to, tenant: tenant, days: days)
    }

    /// The nearest-rank percentile of sorted values: the smallest value with at least `percent`% of the values at
    /// or below it, `sorted[⌈percent·n/100⌉ − 1]`. Exact, in integers (no interpolation, no sketch).
    public static func nearestRank(_ sorted: [Int], percent: Int) -> Int {
        precondition(!sorted.isEmpty && (1...100).contains(percent))
        let rank = (percent * sorted.count + 99) / 100
        return sorted[rank - 1]
    }
}
