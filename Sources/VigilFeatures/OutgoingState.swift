/// An account as a debtor: what its outgoing payments left behind.
///
/// Nothing until the account pays. After one payment the state is that payment as it came (32 bytes inline, no
/// allocation): most accounts pay rarely, and every feature of a one-payment history follows from the payment itself.
/// From the second payment on it is an `OutgoingHistory`. Both forms answer every question the same way; the first
/// form is the second built from one payment, only smaller.
enum OutgoingState: Sendable, Equatable {
    case none
    case one(OutgoingPayment)
    case many(OutgoingHistory)

    /// The debtor windows, finest first: 5 min, 1 h, 24 h, 7 d.
    static var ladder: WindowLadder { .outgoing }
    static var creditorSet: RecentKeys { .day }
    /// The long windows, finest first: 30 d, 90 d; payments to a new payee are the marked events.
    static var longLadder: WindowLadder { .long }

    /// Outgoing payments in tier `tier`'s window at `t` (`tier` 0…3: 5 min, 1 h, 24 h, 7 d).
    func window(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        switch self {
        case .none:
            return WindowLadder.Totals()
        case .one(let payment):
            return Self.ladder.single(tier: tier, at: t, event: payment.at, sum: payment.amount.exact, marked: false)
        case .many(let history):
            return history.window(tier, at: t)
        }
    }

    /// Outgoing payments in long tier `tier`'s window at `t` (`tier` 0: 30 d, 1: 90 d); `marked` counts those to a
    /// payee the debtor paid for the first time.
    func longWindow(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        switch self {
        case .none:
            return WindowLadder.Totals()
        case .one(let payment):
            return Self.longLadder.single(tier: tier, at: t, event: payment.at, sum: payment.amount.exact, marked: payment.isNewPayee)
        case .many(let history):
            return history.longWindow(tier, at: t)
        }
    }

    /// Distinct creditors paid in the 24 hours up to `t`.
    func distinctCreditors(at t: Int64) -> Int {
        switch self {
        case .none: 0
        case .one(let payment): payment.at > t - Self.creditorSet.horizon && payment.at <= t ? 1 : 0
        case .many(let history): history.distinctCreditors(at: t)
        }
    }

    /// Mean and spread of every outgoing amount so far.
    var amounts: Welford {
        switch self {
        case .none:
            return Welford()
        case .one(let payment):
            var amounts = Welford()
            amounts.add(payment.amount.major)
            return amounts
        case .many(let history):
            return history.amounts
        }
    }

    /// Outgoing payments so far made at local hour `hour` (0–23).
    func payments(atHour hour: Int) -> UInt64 {
        switch self {
        case .none: 0
        case .one(let payment): Int(payment.hour) == hour ? 1 : 0
        case .many(let history): history.payments(atHour: hour)
        }
    }

    /// Outgoing payments so far, counted by the hour-of-day profile.
    var payments: UInt64 {
        switch self {
        case .none: 0
        case .one: 1
        case .many(let history): history.hourTotal
        }
    }

    /// The earliest outgoing payment's time.
    var first: Int64? {
        switch self {
        case .none: nil
        case .one(let payment): payment.at
        case .many(let history): history.first
        }
    }

    /// The payment a one-payment state keeps.
    var onlyPayment: OutgoingPayment? {
        if case .one(let payment) = self { payment } else { nil }
    }

    /// The state of the debtor's relationship with `creditor` that the one payment kept implies, if it was to
    /// `creditor`: a one-payment debtor's only relationship needs no storage of its own.
    func impliedPair(with creditor: UInt64) -> PairState? {
        guard case .one(let payment) = self, payment.creditor == creditor else { return nil }
        return PairState(implying: payment)
    }

    mutating func record(_ payment: OutgoingPayment) {
        switch self {
        case .none:
            self = .one(payment)
        case .one(let earlier):
            var history = OutgoingHistory()
            history.record(earlier)
            history.record(payment)
            self = .many(history)
        case .many(var history):
            // Let go of the enum's reference first, so the history's storage is unique and changes in place.
            self = .none
            history.record(payment)
            self = .many(history)
        }
    }
}

/// One outgoing payment, as the debtor state keeps it.
struct OutgoingPayment: Sendable, Equatable {
    /// Seconds since the epoch.
    var at: Int64
    /// The creditor account (`Token.short`).
    var creditor: UInt64
    var amount: StateAmount
    /// The payer's local hour (0–23).
    var hour: UInt8
    /// The currency (`CurrencyCode`).
    var currency: UInt16
    /// Whether the debtor paid this creditor for the first time (a debtor's first payment always is).
    var isNewPayee = true
}

/// The debtor state from the second outgoing payment on, in one word array:
///
/// | words | what |
/// |---|---|
/// | 0, 1 | first and newest payment time |
/// | 2, 3, 4 | Welford count, mean and M2 of the amounts |
/// | 5 | layout: bucket records (bits 0–15), creditor records (16–31), wide hour counters (bit 32), long bucket records (48–63) |
/// | 6… | 24 hour-of-day counters: a byte each (3 words) until one passes 255, then 32 bits each (12 words) |
/// | then | `WindowLadder.outgoing` bucket records, 2 words each |
/// | then | `RecentKeys.day` creditor records, 2 words each |
/// | then | `WindowLadder.long` bucket records, 3 words each (since issue 14; a history written before has none) |
struct OutgoingHistory: Sendable, Equatable {
    var words: ContiguousArray<UInt64>

    static let headerWords = 6

    /// An empty history; `record` fills it.
    init() {
        words = [UInt64(bitPattern: .max), UInt64(bitPattern: .min), 0, 0, 0, 0, 0, 0, 0]
    }

    var first: Int64? {
        let value = Int64(bitPattern: words[0])
        return value == .max ? nil : value
    }

    var newest: Int64 { Int64(bitPattern: words[1]) }

    var amounts: Welford {
        Welford(count: Int(words[2]), mean: Double(bitPattern: words[3]), m2: Double(bitPattern: words[4]))
    }

    var bucketCount: Int {
        get { Int(words[5] & 0xFFFF) }
        set { words[5] = words[5] & ~0xFFFF | UInt64(newValue) }
    }

    var creditorCount: Int {
        get { Int(words[5] >> 16 & 0xFFFF) }
        set { words[5] = words[5] & ~(0xFFFF << 16) | UInt64(newValue) << 16 }
    }

    var longCount: Int {
        get { Int(words[5] >> 48) }
        set { words[5] = words[5] & 0xFFFF_FFFF_FFFF | UInt64(newValue) << 48 }
    }

    var hasWideHours: Bool { words[5] >> 32 & 1 == 1 }
    var bucketsStart: Int { Self.headerWords + (hasWideHours ? 12 : 3) }
    var creditorsStart: Int { bucketsStart + bucketCount * OutgoingState.ladder.recordWords }
    var longStart: Int { creditorsStart + creditorCount * 2 }

    func window(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        OutgoingState.ladder.total(words, start: bucketsStart, count: bucketCount, tier: tier, at: t, newest: newest)
    }

    func longWindow(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        OutgoingState.longLadder.total(words, start: longStart, count: longCount, tier: tier, at: t, newest: newest)
    }

    func distinctCreditors(at t: Int64) -> Int {
        OutgoingState.creditorSet.count(words, start: creditorsStart, count: creditorCount, at: t)
    }

    func payments(atHour hour: Int) -> UInt64 {
        hasWideHours
            ? UInt64(Words.half(words, start: Self.headerWords, index: hour))
            : UInt64(Words.byte(words, start: Self.headerWords, index: hour))
    }

    var hourTotal: UInt64 {
        var total: UInt64 = 0
        for hour in 0..<24 { total += payments(atHour: hour) }
        return total
    }

    mutating func record(_ payment: OutgoingPayment) {
        let old = newest
        let new = old == .min ? payment.at : max(old, payment.at)
        var buckets = bucketCount
        if old != .min, new > old {
            OutgoingState.ladder.advance(&words, start: bucketsStart, count: &buckets, from: old, to: new)
            bucketCount = buckets
            var creditors = creditorCount
            OutgoingState.creditorSet.expire(&words, start: creditorsStart, count: &creditors, newest: new)
            creditorCount = creditors
            var long = longCount
            OutgoingState.longLadder.advance(&words, start: longStart, count: &long, from: old, to: new)
            longCount = long
        }
        words[1] = UInt64(bitPattern: new)
        OutgoingState.ladder.add(&words, start: bucketsStart, count: &buckets, at: payment.at, sum: payment.amount.exact, marked: false, newest: new)
        bucketCount = buckets
        var creditors = creditorCount
        OutgoingState.creditorSet.insert(&words, start: creditorsStart, count: &creditors, key: payment.creditor, at: payment.at, newest: new)
        creditorCount = creditors
        var long = longCount
        OutgoingState.longLadder.add(
            &words, start: longStart, count: &long, at: payment.at, sum: payment.amount.exact, marked: payment.isNewPayee, newest: new
        )
        longCount = long

        var amounts = self.amounts
        amounts.add(payment.amount.major)
        words[2] = UInt64(amounts.count)
        words[3] = amounts.mean.bitPattern
        words[4] = amounts.m2.bitPattern
        countHour(Int(payment.hour))
        words[0] = UInt64(bitPattern: min(Int64(bitPattern: words[0]), payment.at))
    }

    mutating func countHour(_ hour: Int) {
        if !hasWideHours {
            let count = Words.byte(words, start: Self.headerWords, index: hour)
            if count < .max {
                Words.setByte(&words, start: Self.headerWords, index: hour, count + 1)
                return
            }
            widenHours()
        }
        let count = Words.half(words, start: Self.headerWords, index: hour)
        if count < .max { Words.setHalf(&words, start: Self.headerWords, index: hour, count + 1) }
    }

    /// Moves the hour counters from a byte to 32 bits each.
    mutating func widenHours() {
        var counts: [UInt32] = []
        for hour in 0..<24 { counts.append(UInt32(Words.byte(words, start: Self.headerWords, index: hour))) }
        Words.insert(&words, count: 9, at: Self.headerWords + 3)
        for hour in 0..<24 { Words.setHalf(&words, start: Self.headerWords, index: hour, counts[hour]) }
        words[5] |= 1 << 32
    }
}
