import Testing
import VigilDomain
@testable import VigilFeatures

struct OutgoingStateTests {
    static func payment(at t: Int64, to creditor: UInt64 = 9, minorUnits: Int64 = 12_345, hour: UInt8 = 10) -> OutgoingPayment {
        OutgoingPayment(at: t, creditor: creditor, amount: StateAmount(minorUnits: minorUnits, exponent: 2), hour: hour, currency: 1)
    }

    /// Every question the debtor features ask, at time `t`.
    static func answers(_ state: OutgoingState, at t: Int64) -> [String] {
        var answers = (0..<4).map { "\(state.window($0, at: t))" }
        answers += (0..<2).map { "long \(state.longWindow($0, at: t))" }
        answers.append("creditors \(state.distinctCreditors(at: t))")
        answers.append("amounts \(state.amounts)")
        answers += (0..<24).map { "hour \($0): \(state.payments(atHour: $0))" }
        answers.append("payments \(state.payments), first \(String(describing: state.first))")
        return answers
    }

    @Test func onePaymentAnswersAsAHistoryOfThatPaymentWould() {
        var random = Random(state: 3)
        for _ in 0..<200 {
            let payment = Self.payment(at: random.below(2_000_000_000) - 1_000_000_000, minorUnits: random.below(1_000_000), hour: UInt8(random.below(24)))
            var history = OutgoingHistory()
            history.record(payment)
            for offset: Int64 in [
                0, -1, 1, 59, 60, 299, 300, 3_599, 3_600, 86_399, 86_400, 604_799, 604_800, 700_000, -86_400, 29 * 86_400, 30 * 86_400,
                31 * 86_400, 87 * 86_400, 89 * 86_400, 90 * 86_400, 91 * 86_400,
            ] {
                #expect(Self.answers(.one(payment), at: payment.at + offset) == Self.answers(.many(history), at: payment.at + offset))
            }
        }
    }

    @Test func becomesAHistoryAtTheSecondPayment() {
        var state = OutgoingState.none
        state.record(Self.payment(at: 0))
        #expect(state == .one(Self.payment(at: 0)))
        state.record(Self.payment(at: 120, to: 8, minorUnits: 5_000))
        guard case .many(let history) = state else {
            Issue.record("two payments should make a history")
            return
        }
        #expect(history.amounts.count == 2)
        #expect(state.window(0, at: 120) == WindowLadder.Totals(count: 2, sum: 1_734_500))
        #expect(state.distinctCreditors(at: 120) == 2)
        #expect(state.first == 0)
    }

    @Test func hourCountersWidenPastAByte() {
        var state = OutgoingState.none
        for i in 0..<300 { state.record(Self.payment(at: Int64(i) * 86_400, hour: 7)) }
        state.record(Self.payment(at: 300 * 86_400, hour: 8))
        #expect(state.payments(atHour: 7) == 300)
        #expect(state.payments(atHour: 8) == 1)
        #expect(state.payments == 301)
        guard case .many(let history) = state else {
            Issue.record("expected a history")
            return
        }
        #expect(history.hasWideHours)
        // The windows still read right after the counters moved the records along.
        #expect(state.window(3, at: 300 * 86_400).count == 7)
    }

    @Test func aCopyIsUnaffectedByRecordingIntoTheOriginal() {
        var state = OutgoingState.none
        state.record(Self.payment(at: 0))
        state.record(Self.payment(at: 10))
        let copy = state
        state.record(Self.payment(at: 20))
        #expect(copy.window(0, at: 20).count == 2)
        #expect(state.window(0, at: 20).count == 3)
    }
}

struct IncomingStateTests {
    static func payment(at t: Int64, bank: UInt64? = 4, firstTime: Bool = true, minorUnits: Int64 = 100, sender: UInt32 = 7) -> IncomingPayment {
        IncomingPayment(
            at: t, bank: bank ?? 0, amount: StateAmount(minorUnits: minorUnits, exponent: 2), isFirstTime: firstTime, hasBank: bank != nil,
            sender: sender
        )
    }

    static func answers(_ state: IncomingState, at t: Int64) -> [String] {
        (0..<2).map { "\(state.window($0, at: t))" } + (0..<2).map { "long \(state.longWindow($0, at: t))" }
            + ["senders \(state.distinctSenders(days: 30, at: t)) \(state.distinctSenders(days: 90, at: t))"]
            + ["banks \(state.distinctBanks(at: t)) first \(String(describing: state.first))"]
    }

    @Test(arguments: [(UInt64?.some(4), true), (nil, false), (9, false)])
    func onePaymentAnswersAsAHistoryOfThatPaymentWould(bank: UInt64?, firstTime: Bool) {
        let payment = Self.payment(at: 1_795_000_000, bank: bank, firstTime: firstTime)
        var history = IncomingHistory()
        history.record(payment)
        for offset: Int64 in [
            0, -1, 299, 300, 3_299, 3_300, 3_600, 82_799, 82_800, 86_400, 90_000, 29 * 86_400, 30 * 86_400, 31 * 86_400, 88 * 86_400,
            89 * 86_400, 90 * 86_400, 92 * 86_400,
        ] {
            #expect(Self.answers(.one(payment), at: payment.at + offset) == Self.answers(.many(history), at: payment.at + offset))
        }
    }

    /// The long-horizon fields (a debtor payment's new-payee flag, a creditor payment's sender) fit in the spare bytes
    /// of a one-payment row: it stays 32 bytes in the store's tables, as `docs/features.md` (Memory) says.
    @Test func aOnePaymentRowStaysThirtyTwoBytes() {
        #expect(MemoryLayout<OutgoingState>.stride == 32)
        #expect(MemoryLayout<IncomingState>.stride == 32)
    }

    /// A sender stored before issue 14 (fingerprint 0) counts in the long windows but not as a distinct sender, in
    /// either form.
    @Test func anUnknownSenderIsNotADistinctSender() {
        let payment = Self.payment(at: 0, sender: 0)
        var history = IncomingHistory()
        history.record(payment)
        #expect(IncomingState.one(payment).distinctSenders(days: 30, at: 10) == 0)
        #expect(history.distinctSenders(days: 30, at: 10) == 0)
        #expect(history.longWindow(0, at: 10).count == 1)
    }

    /// However long and busy an account's history, its long-horizon state stays bounded: at most 60 long buckets and
    /// 64 senders, whatever the count of days and senders.
    @Test func longStateIsBoundedAndCountsTheEdges() {
        var incoming = IncomingState.none
        var outgoing = OutgoingState.none
        for day in 0..<400 {
            let t = Int64(day) * 86_400 + 3_600
            incoming.record(Self.payment(at: t, firstTime: day % 2 == 0, sender: UInt32(day + 1)))
            outgoing.record(OutgoingPayment(at: t, creditor: UInt64(day), amount: StateAmount(minorUnits: 100, exponent: 2), hour: 1, currency: 1, isNewPayee: day % 4 == 0))
        }
        let t = 399 * 86_400 + 3_600 as Int64
        guard case .many(let history) = incoming, case .many(let debtor) = outgoing else {
            Issue.record("400 payments should make histories")
            return
        }
        #expect(history.longCount <= 60)
        #expect(history.senderCount == 64)
        #expect(debtor.longCount <= 60)
        // Header, the short windows and sets, 60 long buckets of 3 words, 64 senders of 1 word.
        #expect(history.words.count <= 3 + 36 * 3 + 64 * 2 + 60 * 3 + 64)
        // 30 days: days 370 to 399, every one of them, half of them first-time senders.
        #expect(incoming.longWindow(0, at: t) == WindowLadder.Totals(count: 30, sum: 30 * 10_000, marked: 15))
        #expect(incoming.distinctSenders(days: 30, at: t) == 30)
        // 90 days: 3-day buckets, so 87 to 89 days back plus today; the set saturates at its 64 latest senders.
        let ninety = incoming.longWindow(1, at: t)
        #expect(ninety.count >= 88 && ninety.count <= 90)
        #expect(incoming.distinctSenders(days: 90, at: t) == 64)
        #expect(outgoing.longWindow(0, at: t).count == 30)
        #expect(outgoing.longWindow(0, at: t).marked == 7)
        #expect(outgoing.longWindow(1, at: t).count == ninety.count)
    }

    @Test func countsFirstTimeSendersAndBanks() {
        var state = IncomingState.none
        state.record(Self.payment(at: 0, bank: 1))
        state.record(Self.payment(at: 60, bank: 2, firstTime: false))
        state.record(Self.payment(at: 120, bank: nil))
        state.record(Self.payment(at: 4_000, bank: 1))
        #expect(state.window(0, at: 4_000) == WindowLadder.Totals(count: 1, sum: 10_000, marked: 1))
        #expect(state.window(1, at: 4_000) == WindowLadder.Totals(count: 4, sum: 40_000, marked: 3))
        #expect(state.distinctBanks(at: 4_000) == 2)
        #expect(state.first == 0)
    }
}

struct PairStateTests {
    static let amount = StateAmount(minorUnits: 7_500, exponent: 2)

    @Test func keepsTheLatestEightRecentPayments() {
        var pair = PairState()
        // Nine different amounts a minute apart: the first falls out of the eight kept.
        for i in 0..<9 { _ = pair.record(at: Int64(i) * 60, amount: StateAmount(minorUnits: 100 + Int64(i), exponent: 2), currency: 1) }
        #expect(pair.earlier.count == 7)
        #expect(!pair.record(at: 540, amount: StateAmount(minorUnits: 100, exponent: 2), currency: 1).possibleDouble)
        #expect(pair.record(at: 541, amount: StateAmount(minorUnits: 102, exponent: 2), currency: 1).possibleDouble)
    }

    @Test func aLatePaymentCountsAsRecentOnlyWithinTenMinutesOfTheNewest() {
        var pair = PairState()
        _ = pair.record(at: 1_000, amount: Self.amount, currency: 1)
        _ = pair.record(at: 500, amount: StateAmount(minorUnits: 1, exponent: 2), currency: 1)
        _ = pair.record(at: 300, amount: StateAmount(minorUnits: 2, exponent: 2), currency: 1)
        #expect(pair.earlier == [PairState.RecentPayment(minorUnits: 1, age: 500, currency: 1)])
        #expect(pair.lastAt == 1_000)
        #expect(pair.count == 3)
        #expect(pair.record(at: 600, amount: StateAmount(minorUnits: 1, exponent: 2), currency: 1).possibleDouble)
        // The same amount in another currency is not a double payment.
        #expect(!pair.record(at: 1_001, amount: Self.amount, currency: 2).possibleDouble)
    }

    @Test func forgetsRecentPaymentsTenMinutesOnAndFreesTheirStorage() {
        var pair = PairState()
        _ = pair.record(at: 0, amount: Self.amount, currency: 1)
        _ = pair.record(at: 60, amount: Self.amount, currency: 1)
        #expect(pair.earlier.count == 1)
        let reading = pair.record(at: 700, amount: Self.amount, currency: 1)
        #expect(!reading.possibleDouble)
        #expect(pair.earlier.isEmpty)
        #expect(reading.previous == 2)
        #expect(reading.daysSinceLast == 640.0 / 86_400)
    }

    @Test func theImpliedStateIsTheStateAfterOnePayment() {
        let payment = OutgoingPayment(at: 77, creditor: 5, amount: Self.amount, hour: 3, currency: 9)
        var recorded = PairState()
        _ = recorded.record(at: 77, amount: Self.amount, currency: 9)
        #expect(PairState(implying: payment) == recorded)
        #expect(OutgoingState.one(payment).impliedPair(with: 5) == recorded)
        #expect(OutgoingState.one(payment).impliedPair(with: 6) == nil)
    }
}

struct RecentDebtorsTests {
    @Test func oneDebtorIsKeptInlineAndAnswersAsTheRecordsWould() {
        var random = Random(state: 11)
        for _ in 0..<50 {
            var compact = RecentDebtors.none
            var words: ContiguousArray<UInt64> = []
            var count = 0
            var newest = Int64.min
            for _ in 0..<Int(random.below(6) + 1) {
                let key = UInt64(random.below(4))
                let t = random.below(300_000)
                compact.insert(key, at: t)
                let new = max(newest, t)
                RecentKeys.day.expire(&words, start: 0, count: &count, newest: new)
                newest = new
                RecentKeys.day.insert(&words, start: 0, count: &count, key: key, at: t, newest: new)
                for query in [t, newest, t - 86_400, t + 86_399, newest - 3_600] {
                    #expect(compact.count(at: query) == RecentKeys.day.count(words, start: 0, count: count, at: query))
                }
                if count == 1 {
                    #expect(compact == .one(debtor: words[0], seen: Int64(bitPattern: words[1])))
                }
            }
        }
    }

    @Test func goesBackInlineWhenOthersExpire() {
        var debtors = RecentDebtors.none
        debtors.insert(1, at: 0)
        debtors.insert(2, at: 10)
        #expect(debtors.count(at: 10) == 2)
        debtors.insert(2, at: 90_000)
        #expect(debtors == .one(debtor: 2, seen: 90_000))
    }
}

struct StateAmountTests {
    @Test func majorUnitsMatchMoney() {
        for (text, code) in [("0.10", "GBP"), ("1234.56", "EUR"), ("999", "JPY"), ("1.234", "KWD"), ("0.0001", "CLF")] {
            let money = try! Money.parse(text, currency: Currency(code: code)!).get()
            #expect(StateAmount(money).major == money.majorUnits)
        }
    }

    @Test func exactUnitsAreTenThousandthsOfAMajorUnit() {
        #expect(StateAmount(minorUnits: 1_234, exponent: 2).exact == 123_400)
        #expect(StateAmount(minorUnits: 1_234, exponent: 0).exact == 12_340_000)
        #expect(StateAmount(minorUnits: 1_234, exponent: 4).exact == 1_234)
        #expect(StateAmount(minorUnits: .max / 10, exponent: 0).exact == .max)
    }

    @Test func currencyCodesPackOneToOne() {
        #expect(CurrencyCode.pack("AAA") == 0)
        #expect(CurrencyCode.pack("ZZZ") == 17_575)
        #expect(CurrencyCode.pack("GBP") != CurrencyCode.pack("GBQ"))
        #expect(CurrencyCode.pack("gbp") >= 17_576)
    }
}
