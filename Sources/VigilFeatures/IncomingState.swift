/// An account as a creditor: what its incoming payments left behind.
///
/// Nothing until the account is paid; then the one payment as it came (32 bytes inline); from the second payment on,
/// an `IncomingHistory`. As with `OutgoingState`, both forms answer every question the same way.
enum IncomingState: Sendable, Equatable {
    case none
    case one(IncomingPayment)
    case many(IncomingHistory)

    /// The creditor windows, finest first: 1 h, 24 h; first-time senders are the marked events.
    static var ladder: WindowLadder { .inbound }
    static var bankSet: RecentKeys { .day }
    /// The long windows, finest first: 30 d, 90 d; first-time senders are the marked events.
    static var longLadder: WindowLadder { .long }
    static var senderSet: RecentSenders { .long }

    /// Incoming payments in tier `tier`'s window at `t` (`tier` 0: 1 h, 1: 24 h); `marked` counts first-time senders.
    func window(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        switch self {
        case .none:
            return WindowLadder.Totals()
        case .one(let payment):
            return Self.ladder.single(tier: tier, at: t, event: payment.at, sum: payment.amount.exact, marked: payment.isFirstTime)
        case .many(let history):
            return history.window(tier, at: t)
        }
    }

    /// Incoming payments in long tier `tier`'s window at `t` (`tier` 0: 30 d, 1: 90 d); `marked` counts first-time
    /// senders.
    func longWindow(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        switch self {
        case .none:
            return WindowLadder.Totals()
        case .one(let payment):
            return Self.longLadder.single(tier: tier, at: t, event: payment.at, sum: payment.amount.exact, marked: payment.isFirstTime)
        case .many(let history):
            return history.longWindow(tier, at: t)
        }
    }

    /// Distinct sending accounts in the `days`-day window at `t` (days as `RecentSenders` counts them, `days` ≤ 90).
    func distinctSenders(days: Int64, at t: Int64) -> Int {
        switch self {
        case .none:
            return 0
        case .one(let payment):
            let day = RecentSenders.day(payment.at)
            return payment.sender != 0 && Self.senderSet.counts(day: day, days: days, at: t, newestDay: day) ? 1 : 0
        case .many(let history):
            return history.distinctSenders(days: days, at: t)
        }
    }

    /// Distinct sending banks in the 24 hours up to `t`.
    func distinctBanks(at t: Int64) -> Int {
        switch self {
        case .none: 0
        case .one(let payment): payment.hasBank && payment.at > t - Self.bankSet.horizon && payment.at <= t ? 1 : 0
        case .many(let history): history.distinctBanks(at: t)
        }
    }

    /// The earliest incoming payment's time.
    var first: Int64? {
        switch self {
        case .none: nil
        case .one(let payment): payment.at
        case .many(let history): history.first
        }
    }

    mutating func record(_ payment: IncomingPayment) {
        switch self {
        case .none:
            self = .one(payment)
        case .one(let earlier):
            var history = IncomingHistory()
            history.record(earlier)
            history.record(payment)
            self = .many(history)
        case .many(var history):
            self = .none
            history.record(payment)
            self = .many(history)
        }
    }
}

/// One incoming payment, as the creditor state keeps it.
struct IncomingPayment: Sendable, Equatable {
    /// Seconds since the epoch.
    var at: Int64
    /// The sending bank (FNV-1a of `debtor.agent`); meaningless unless `hasBank`.
    var bank: UInt64
    var amount: StateAmount
    /// Whether the debtor paid this creditor for the first time.
    var isFirstTime: Bool
    var hasBank: Bool
    /// The sending account (`RecentSenders.fingerprint`); 0 when unknown (a payment stored before issue 14).
    var sender: UInt32 = 0
}

/// The creditor state from the second incoming payment on, in one word array:
///
/// | words | what |
/// |---|---|
/// | 0, 1 | first and newest payment time |
/// | 2 | layout: bucket records (bits 0–15), bank records (16–31), long bucket records (32–47), sender records (48–63) |
/// | then | `WindowLadder.inbound` bucket records, 3 words each (first-time senders marked) |
/// | then | `RecentKeys.day` sending-bank records, 2 words each |
/// | then | `WindowLadder.long` bucket records, 3 words each (since issue 14; a history written before has none) |
/// | then | `RecentSenders.long` sender records, 1 word each (likewise) |
struct IncomingHistory: Sendable, Equatable {
    var words: ContiguousArray<UInt64>

    static let headerWords = 3

    init() {
        words = [UInt64(bitPattern: .max), UInt64(bitPattern: .min), 0]
    }

    var first: Int64? {
        let value = Int64(bitPattern: words[0])
        return value == .max ? nil : value
    }

    var newest: Int64 { Int64(bitPattern: words[1]) }

    var bucketCount: Int {
        get { Int(words[2] & 0xFFFF) }
        set { words[2] = words[2] & ~0xFFFF | UInt64(newValue) }
    }

    var bankCount: Int {
        get { Int(words[2] >> 16 & 0xFFFF) }
        set { words[2] = words[2] & ~(0xFFFF << 16) | UInt64(newValue) << 16 }
    }

    var longCount: Int {
        get { Int(words[2] >> 32 & 0xFFFF) }
        set { words[2] = words[2] & ~(0xFFFF << 32) | UInt64(newValue) << 32 }
    }

    var senderCount: Int {
        get { Int(words[2] >> 48) }
        set { words[2] = words[2] & 0xFFFF_FFFF_FFFF | UInt64(newValue) << 48 }
    }

    var banksStart: Int { Self.headerWords + bucketCount * IncomingState.ladder.recordWords }
    var longStart: Int { banksStart + bankCount * 2 }
    var sendersStart: Int { longStart + longCount * IncomingState.longLadder.recordWords }

    func longWindow(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        IncomingState.longLadder.total(words, start: longStart, count: longCount, tier: tier, at: t, newest: newest)
    }

    func distinctSenders(days: Int64, at t: Int64) -> Int {
        IncomingState.senderSet.count(words, start: sendersStart, count: senderCount, days: days, at: t, newestDay: RecentSenders.day(newest))
    }

    func window(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        IncomingState.ladder.total(words, start: Self.headerWords, count: bucketCount, tier: tier, at: t, newest: newest)
    }

    func distinctBanks(at t: Int64) -> Int {
        IncomingState.bankSet.count(words, start: banksStart, count: bankCount, at: t)
    }

    mutating func record(_ payment: IncomingPayment) {
        let old = newest
        let new = old == .min ? payment.at : max(old, payment.at)
        var buckets = bucketCount
        if old != .min, new > old {
            IncomingState.ladder.advance(&words, start: Self.headerWords, count: &buckets, from: old, to: new)
            bucketCount = buckets
            var banks = bankCount
            IncomingState.bankSet.expire(&words, start: banksStart, count: &banks, newest: new)
            bankCount = banks
            var long = longCount
            IncomingState.longLadder.advance(&words, start: longStart, count: &long, from: old, to: new)
            longCount = long
            if RecentSenders.day(new) != RecentSenders.day(old) {
                var senders = senderCount
                IncomingState.senderSet.expire(&words, start: sendersStart, count: &senders, newestDay: RecentSenders.day(new))
                senderCount = senders
            }
        }
        words[1] = UInt64(bitPattern: new)
        IncomingState.ladder.add(
            &words, start: Self.headerWords, count: &buckets, at: payment.at, sum: payment.amount.exact, marked: payment.isFirstTime, newest: new
        )
        bucketCount = buckets
        if payment.hasBank {
            var banks = bankCount
            IncomingState.bankSet.insert(&words, start: banksStart, count: &banks, key: payment.bank, at: payment.at, newest: new)
            bankCount = banks
        }
        var long = longCount
        IncomingState.longLadder.add(
            &words, start: longStart, count: &long, at: payment.at, sum: payment.amount.exact, marked: payment.isFirstTime, newest: new
        )
        longCount = long
        var senders = senderCount
        IncomingState.senderSet.insert(
            &words, start: sendersStart, count: &senders, sender: payment.sender, day: RecentSenders.day(payment.at), newestDay: RecentSenders.day(new)
        )
        senderCount = senders
        words[0] = UInt64(bitPattern: min(Int64(bitPattern: words[0]), payment.at))
    }
}
