public import VigilDomain

/// What to simulate: how many payments, over which period, from which seed.
public struct SimulationConfiguration: Sendable, Hashable {
    /// Fixes every random draw: the same configuration always gives byte-identical files.
    public var seed: UInt64
    /// Rows in `history.csv`, exactly.
    public var payments: Int
    /// The first instant of the simulated period; every payment is at or after it.
    public var start: Instant
    /// The period's length; every payment is before `start` plus this many days.
    public var days: Int

    /// The default start, `2026-01-01T00:00:00Z`.
    public static let defaultStart = Instant(epochMillis: 1_767_225_600_000)

    /// - Parameter days: defaults to enough days for about 20,000 payments a day, and at least 14.
    public init(seed: UInt64, payments: Int, start: Instant = SimulationConfiguration.defaultStart, days: Int? = nil) {
        self.seed = seed
        self.payments = payments
        self.start = start
        self.days = days ?? SimulationConfiguration.defaultDays(payments: payments)
    }

    /// About 20,000 payments a day, and at least two weeks so weekly rhythms and delayed scams fit.
    public static func defaultDays(payments: Int) -> Int {
        max(14, (payments + 19_999) / 20_000)
    }

    /// Customers simulated: one per 50 payments, at least 200.
    var customers: Int { max(200, payments / 50) }
}
