/// Everything Vigil remembers about one account (by token), as debtor and as creditor.
public struct AccountState: Sendable, Equatable {
    var outgoing5m = SlidingWindow(bucketSeconds: 60, buckets: 5)
    var outgoing1h = SlidingWindow(bucketSeconds: 300, buckets: 12)
    var outgoing24h = SlidingWindow(bucketSeconds: 3600, buckets: 24)
    var outgoing7d = SlidingWindow(bucketSeconds: 21_600, buckets: 28)
    var creditors24h = RecentSet(horizon: 86_400)
    var amounts = Welford()
    var hours = [UInt32](repeating: 0, count: 24)
    var firstSeen: Int64?

    var inbound1h = SlidingWindow(bucketSeconds: 300, buckets: 12)
    var inbound24h = SlidingWindow(bucketSeconds: 3600, buckets: 24)
    var firstTimeSenders1h = SlidingWindow(bucketSeconds: 300, buckets: 12)
    var firstTimeSenders24h = SlidingWindow(bucketSeconds: 3600, buckets: 24)
    var sendingBanks24h = RecentSet(horizon: 86_400)
    var firstInbound: Int64?

    public init() {}
}

/// What Vigil remembers about one debtor→creditor relationship.
public struct PairState: Sendable, Equatable {
    var count = 0
    var lastAt: Int64 = .min
    var maxAmount = 0.0
    /// Recent payments (time, minor units, currency) for the double-payment check.
    var recent: [(at: Int64, minorUnits: Int64, currency: String)] = []

    public init() {}

    public static func == (lhs: PairState, rhs: PairState) -> Bool {
        lhs.count == rhs.count && lhs.lastAt == rhs.lastAt && lhs.maxAmount == rhs.maxAmount
            && lhs.recent.elementsEqual(rhs.recent, by: { $0 == $1 })
    }
}

/// What Vigil remembers about a device or an IP address.
public struct EntityState: Sendable, Equatable {
    var debtors24h = RecentSet(horizon: 86_400)

    public init() {}
}
