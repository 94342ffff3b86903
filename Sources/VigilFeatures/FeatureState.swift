/// Everything Vigil remembers about one account (by token), as debtor and as creditor.
///
/// Each role's part is empty until the account acts in that role, so an account that only pays holds no creditor
/// state, and one that is only paid holds no debtor state; `InMemoryFeatureStore` keeps the two parts apart and
/// stores only the ones in use.
public struct AccountState: Sendable, Equatable {
    var outgoing = OutgoingState.none
    var incoming = IncomingState.none

    public init() {}

    /// When the account was first seen in any role.
    var firstSeen: Int64? {
        switch (outgoing.first, incoming.first) {
        case let (a?, b?): min(a, b)
        case let (a, b): a ?? b
        }
    }
}

/// What Vigil remembers about one debtor→creditor relationship (40 bytes).
public struct PairState: Sendable, Equatable {
    /// Time of the newest payment; `.min` before the first.
    var lastAt: Int64 = .min
    /// The largest amount paid, in major units.
    var maxAmount = 0.0
    /// The newest payment's amount and currency: the first of the recent payments.
    var newestMinorUnits: Int64 = 0
    /// Payments so far (saturating).
    var count: UInt32 = 0
    var newestCurrency: UInt16 = 0
    /// The other recent payments, within 10 minutes before the newest (at most 7, so 8 in all); usually none.
    var earlier: [RecentPayment] = []

    /// How far back a payment counts as recent: the double-payment window.
    static let recentSeconds: Int64 = 600
    /// Recent payments kept, the newest included.
    static let recentLimit = 8

    public init() {}

    /// The state after one payment.
    init(implying payment: OutgoingPayment) {
        _ = record(at: payment.at, amount: payment.amount, currency: payment.currency)
    }

    /// A recent payment other than the newest.
    struct RecentPayment: Sendable, Equatable {
        var minorUnits: Int64
        /// Seconds before the pair's newest payment (< 600).
        var age: UInt16
        var currency: UInt16
    }

    /// What the pair says about a payment before it is counted.
    struct Reading: Sendable {
        var previous: Int
        var daysSinceLast: Double
        var versusMax: Double
        var possibleDouble: Bool
    }

    /// Reads the pair's features for a payment at `t`, then counts the payment.
    ///
    /// A possible double payment is a recent payment of the same amount and currency within 10 minutes either side of
    /// `t`. Recent payments are the pair's latest eight within 10 minutes before its newest payment.
    mutating func record(at t: Int64, amount: StateAmount, currency: UInt16) -> Reading {
        let major = amount.major
        let previous = Int(count)
        var reading = Reading(
            previous: previous,
            daysSinceLast: previous > 0 ? Double(max(0, t - lastAt)) / 86_400 : .nan,
            versusMax: previous > 0 && maxAmount > 0 ? major / maxAmount : .nan,
            possibleDouble: false
        )
        if previous > 0 {
            reading.possibleDouble = isRecent(at: lastAt, t) && newestMinorUnits == amount.minorUnits && newestCurrency == currency
            for payment in earlier where !reading.possibleDouble {
                reading.possibleDouble = isRecent(at: lastAt - Int64(payment.age), t) && payment.minorUnits == amount.minorUnits
                    && payment.currency == currency
            }
        }

        count = count == .max ? .max : count + 1
        maxAmount = max(maxAmount, major)
        if previous == 0 {
            lastAt = t
            newestMinorUnits = amount.minorUnits
            newestCurrency = currency
        } else if t > lastAt {
            // The payment becomes the newest; the old newest and the rest age by the step.
            let step = t - lastAt
            var kept: [RecentPayment] = []
            if step < Self.recentSeconds {
                kept.append(RecentPayment(minorUnits: newestMinorUnits, age: UInt16(step), currency: newestCurrency))
                for payment in earlier where Int64(payment.age) + step < Self.recentSeconds {
                    kept.append(RecentPayment(minorUnits: payment.minorUnits, age: payment.age + UInt16(step), currency: payment.currency))
                }
            }
            earlier = Array(kept.prefix(Self.recentLimit - 1))
            lastAt = t
            newestMinorUnits = amount.minorUnits
            newestCurrency = currency
        } else if lastAt - t < Self.recentSeconds {
            let age = UInt16(lastAt - t)
            let index = earlier.firstIndex { $0.age > age } ?? earlier.endIndex
            if index < Self.recentLimit - 1 {
                earlier.insert(RecentPayment(minorUnits: amount.minorUnits, age: age, currency: currency), at: index)
                if earlier.count > Self.recentLimit - 1 { earlier.removeLast() }
            }
        }
        return reading
    }

    /// Whether a payment at `at` is within 10 minutes of `t`, before or after.
    @inline(__always)
    func isRecent(at: Int64, _ t: Int64) -> Bool {
        at > t - Self.recentSeconds && at <= t + Self.recentSeconds
    }
}

/// A relationship as its row in `InMemoryFeatureStore` keeps it: `PairState` without the earlier recent payments,
/// which few relationships have and which sit in a side table of the shard, so a row is 32 bytes instead of 40.
struct StoredPair: Sendable, Equatable {
    var lastAt: Int64
    var maxAmount: Double
    var newestMinorUnits: Int64
    var count: UInt32
    var newestCurrency: UInt16
    var hasEarlier: Bool

    init(_ state: PairState) {
        lastAt = state.lastAt
        maxAmount = state.maxAmount
        newestMinorUnits = state.newestMinorUnits
        count = state.count
        newestCurrency = state.newestCurrency
        hasEarlier = !state.earlier.isEmpty
    }
}

extension PairState {
    init(_ stored: StoredPair, earlier: [RecentPayment]) {
        lastAt = stored.lastAt
        maxAmount = stored.maxAmount
        newestMinorUnits = stored.newestMinorUnits
        count = stored.count
        newestCurrency = stored.newestCurrency
        self.earlier = earlier
    }
}

/// What Vigil remembers about a device or an IP address: the debtors seen on it in the last 24 hours.
public struct EntityState: Sendable, Equatable {
    var debtors = RecentDebtors.none

    public init() {}
}

/// A device's or IP's row in `InMemoryFeatureStore` (16 bytes): one debtor and its sighting inline; for more, the
/// index of their word array in the shard's pool.
struct StoredEntity: Sendable, Equatable {
    /// The debtor; with `seen == .min`, 0 for none or 1 + the pool index.
    var debtor: UInt64
    /// The sighting; `.min` (never a payment time) when `debtor` is not a debtor.
    var seen: Int64

    static let none = StoredEntity(debtor: 0, seen: .min)

    static func pooled(_ index: Int) -> StoredEntity { StoredEntity(debtor: UInt64(index) + 1, seen: .min) }

    /// The pool index, when the debtors are in the pool.
    var poolIndex: Int? { seen == .min && debtor > 0 ? Int(debtor - 1) : nil }
}

/// The debtors of a device or IP as `RecentKeys.day` keeps them: one inline (most devices have one), more in a word
/// array of records. Both forms answer the same way.
enum RecentDebtors: Sendable, Equatable {
    case none
    case one(debtor: UInt64, seen: Int64)
    case many(ContiguousArray<UInt64>)

    static var set: RecentKeys { .day }

    /// Distinct debtors seen in the 24 hours up to `t`.
    func count(at t: Int64) -> Int {
        switch self {
        case .none: 0
        case .one(_, let seen): seen > t - Self.set.horizon && seen <= t ? 1 : 0
        case .many(let words): Self.set.count(words, start: 0, count: words.count / 2, at: t)
        }
    }

    mutating func insert(_ debtor: UInt64, at t: Int64) {
        let set = Self.set
        switch self {
        case .none:
            self = .one(debtor: debtor, seen: t)
        case .one(let key, let seen):
            let newest = max(seen, t)
            guard t > newest - set.horizon else { return }
            if key == debtor {
                self = .one(debtor: key, seen: newest)
            } else if seen <= newest - set.horizon {
                self = .one(debtor: debtor, seen: t)
            } else {
                self = .many([key, UInt64(bitPattern: seen), debtor, UInt64(bitPattern: t)])
            }
        case .many(var words):
            // Let go of the enum's reference first, so the array is unique and changes in place.
            self = .none
            var count = words.count / 2
            let newest = max(set.newest(words, start: 0, count: count) ?? t, t)
            set.expire(&words, start: 0, count: &count, newest: newest)
            set.insert(&words, start: 0, count: &count, key: debtor, at: t, newest: newest)
            self = count == 1 ? .one(debtor: words[0], seen: Int64(bitPattern: words[1])) : .many(words)
        }
    }
}
