import Foundation
public import VigilDomain

/// Computes a payment's features from what was known before it, then folds the payment into the state.
///
/// This one function serves online scoring, recovery and offline replay, so a replayed history gives
/// exactly the values the server computed. Times come from the payment's `createdAt`, never the clock (live scoring
/// and recovery first bound it by the receive time: `CreatedAtBounds`).
public struct FeatureExtractor<Store: FeatureStore>: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Writes `Feature.count` values into `features` (NaN = missing) and updates the state.
    ///
    /// - Performance: about 2 µs (`vigil-microbench`, stage 3). It allocates only when state grows: an account's
    ///   second payment in a role makes its history, and a small history grows to fit each new bucket or key.
    /// - Throws: only a shared store's ``StateStoreError``; the records updated before it stay updated (and are not
    ///   updated again when the payment comes back: ``FeatureStore``).
    public func observe(_ payment: TokenizedPayment, into features: inout [Double]) async throws(StateStoreError) {
        try await observe(payment, identity: payment.consortiumIdentity, into: &features)
    }

    /// `observe`, for a payment whose identity was taken before its time was bounded (``CreatedAtBounds``): the
    /// identity is the payment's as sent, the same for both banks whatever their receive times.
    /// - Parameter facts: what the reference store says about the payment (``ReferenceStore/facts(_:)``): the consortium's
    ///   fraud reports on the creditor, the institutions' types, the debtor's customer.
    public func observe(
        _ payment: TokenizedPayment, identity: UInt64, facts: ReferenceFacts = .none, into features: inout [Double]
    ) async throws(StateStoreError) {
        if features.count != Feature.count { features = [Double](repeating: .nan, count: Feature.count) }
        let t = payment.createdAt.epochMillis >= 0 ? payment.createdAt.epochMillis / 1000 : (payment.createdAt.epochMillis - 999) / 1000
        let money = StateAmount(payment.amount)
        let amount = money.major
        let debtor = payment.debtor.account
        let creditor = payment.creditor.account
        func set(_ feature: Feature, _ value: Double) { features[feature.rawValue] = value }

        let currency = CurrencyCode.pack(payment.amount.currency.code)
        let hour = payment.createdAt.localHour
        let (pair, outgoing) = try await store.withDebtor(debtor, paying: creditor, applying: Application(payment: identity, part: .debtor, at: t)) { state, pair in
            let relationship = pair.record(at: t, amount: money, currency: currency)

            let w5m = state.outgoing.window(0, at: t)
            let w1h = state.outgoing.window(1, at: t)
            let w24h = state.outgoing.window(2, at: t)
            let w7d = state.outgoing.window(3, at: t)
            let w30d = state.outgoing.longWindow(0, at: t)
            let w90d = state.outgoing.longWindow(1, at: t)
            let distinct = state.outgoing.distinctCreditors(at: t)
            let amounts = state.outgoing.amounts
            let mean = amounts.count > 0 ? amounts.mean : .nan
            let std = amounts.standardDeviation
            let zscore = std > 0 ? (amount - amounts.mean) / std : .nan
            let total = state.outgoing.payments
            let unusual = total > 0 ? 1 - (Double(state.outgoing.payments(atHour: hour)) + 1) / (Double(total) + 24) : .nan
            let age = state.firstSeen.map { Double(max(0, t - $0)) / 86_400 } ?? 0

            state.outgoing.record(
                OutgoingPayment(
                    at: t, creditor: creditor.short, amount: money, hour: UInt8(hour), currency: currency, isNewPayee: relationship.previous == 0
                )
            )
            return (
                relationship,
                DebtorReading(
                    windows: (w5m, w1h, w24h, w7d), long: (w30d, w90d), distinctCreditors: distinct, mean: mean, std: std, zscore: zscore,
                    unusualHour: unusual, ageDays: age
                )
            )
        }
        let newPayee = pair.previous == 0
        set(.pairNewPayee, newPayee ? 1 : 0)
        set(.pairCount, Double(pair.previous))
        set(.pairDaysSinceLast, pair.daysSinceLast)
        set(.pairAmountVsMax, pair.versusMax)
        set(.pairPossibleDoublePayment, pair.possibleDouble ? 1 : 0)

        set(.debtorCount5m, Double(outgoing.windows.0.count))
        set(.debtorSum5m, ExactSum.major(outgoing.windows.0.sum))
        set(.debtorCount1h, Double(outgoing.windows.1.count))
        set(.debtorSum1h, ExactSum.major(outgoing.windows.1.sum))
        set(.debtorCount24h, Double(outgoing.windows.2.count))
        set(.debtorSum24h, ExactSum.major(outgoing.windows.2.sum))
        set(.debtorCount7d, Double(outgoing.windows.3.count))
        set(.debtorSum7d, ExactSum.major(outgoing.windows.3.sum))
        set(.debtorDistinctCreditors24h, Double(outgoing.distinctCreditors))
        set(.debtorAmountMean, outgoing.mean)
        set(.debtorAmountStd, outgoing.std)
        set(.debtorAmountZScore, outgoing.zscore)
        set(.debtorHourUnusualness, outgoing.unusualHour)
        set(.debtorAccountAgeDays, outgoing.ageDays)
        set(.debtorCount30d, Double(outgoing.long.0.count))
        set(.debtorCount90d, Double(outgoing.long.1.count))
        set(.debtorNewPayees30d, Double(outgoing.long.0.marked))
        set(.debtorNewPayees90d, Double(outgoing.long.1.marked))

        let bank = payment.debtor.agent.map { FNV1a.hash($0.utf8) }
        let inbound = try await store.withAccount(creditor, applying: Application(payment: identity, part: .creditor, at: t)) { state in
            let in1h = state.incoming.window(0, at: t)
            let in24h = state.incoming.window(1, at: t)
            let banks = state.incoming.distinctBanks(at: t)
            let out24h = state.outgoing.window(2, at: t)
            let passThrough = Self.ratio(out24h, in24h)
            let age = state.incoming.first.map { Double(max(0, t - $0)) / 86_400 } ?? 0
            let in30d = state.incoming.longWindow(0, at: t)
            let in90d = state.incoming.longWindow(1, at: t)
            let senders = (state.incoming.distinctSenders(days: 30, at: t), state.incoming.distinctSenders(days: 90, at: t))
            let passThroughLong = (
                Self.ratio(state.outgoing.longWindow(0, at: t), in30d), Self.ratio(state.outgoing.longWindow(1, at: t), in90d)
            )

            state.incoming.record(
                IncomingPayment(
                    at: t, bank: bank ?? 0, amount: money, isFirstTime: newPayee, hasBank: bank != nil, sender: RecentSenders.fingerprint(debtor.short)
                )
            )
            return CreditorReading(
                in1h: in1h, in24h: in24h, distinctBanks: banks, passThrough: passThrough, ageDays: age,
                in30d: in30d, in90d: in90d, distinctSenders: senders, passThroughLong: passThroughLong
            )
        }
        set(.creditorFirstTimeSenders1h, Double(inbound.in1h.marked))
        set(.creditorFirstTimeSenders24h, Double(inbound.in24h.marked))
        set(.creditorDistinctSendingBanks24h, Double(inbound.distinctBanks))
        set(.creditorInboundCount1h, Double(inbound.in1h.count))
        set(.creditorInboundSum1h, ExactSum.major(inbound.in1h.sum))
        set(.creditorInboundCount24h, Double(inbound.in24h.count))
        set(.creditorInboundSum24h, ExactSum.major(inbound.in24h.sum))
        set(.creditorPassThroughRatio24h, inbound.passThrough)
        set(.creditorAgeDays, inbound.ageDays)
        set(.creditorInboundCount30d, Double(inbound.in30d.count))
        set(.creditorInboundCount90d, Double(inbound.in90d.count))
        set(.creditorDistinctSenders30d, Double(inbound.distinctSenders.0))
        set(.creditorDistinctSenders90d, Double(inbound.distinctSenders.1))
        set(.creditorFirstTimeSenders30d, Double(inbound.in30d.marked))
        set(.creditorFirstTimeSenders90d, Double(inbound.in90d.marked))
        set(.creditorPassThroughRatio30d, inbound.passThroughLong.0)
        set(.creditorPassThroughRatio90d, inbound.passThroughLong.1)

        var device = Double.nan
        if let token = payment.device {
            device = try await distinctDebtors(token, debtor: debtor, at: t, applying: Application(payment: identity, part: .device, at: t))
        }
        set(.deviceDistinctDebtors24h, device)
        var ip = Double.nan
        if let token = payment.ip {
            ip = try await distinctDebtors(token, debtor: debtor, at: t, applying: Application(payment: identity, part: .ip, at: t))
        }
        set(.ipDistinctDebtors24h, ip)

        Self.referenceFeatures(facts, at: payment.createdAt.epochMillis, into: &features)
        if let customer = facts.customer {
            let reading = try await store.withAccount(customer, applying: Application(payment: identity, part: .customer, at: t)) { state in
                let w24h = state.outgoing.window(2, at: t)
                let w7d = state.outgoing.window(3, at: t)
                let distinct = state.outgoing.distinctCreditors(at: t)
                state.outgoing.record(
                    OutgoingPayment(at: t, creditor: creditor.short, amount: money, hour: UInt8(hour), currency: currency, isNewPayee: newPayee)
                )
                return CustomerReading(w24h: w24h, w7d: w7d, distinctCreditors: distinct)
            }
            set(.customerCount24h, Double(reading.w24h.count))
            set(.customerSum24h, ExactSum.major(reading.w24h.sum))
            set(.customerCount7d, Double(reading.w7d.count))
            set(.customerDistinctCreditors24h, Double(reading.distinctCreditors))
        }

        Self.requestFeatures(payment, into: &features)
    }

    /// A role's outgoing sum over its incoming sum in one window; missing when nothing came in.
    static func ratio(_ outgoing: WindowLadder.Totals, _ incoming: WindowLadder.Totals) -> Double {
        incoming.sum > 0 ? ExactSum.major(outgoing.sum) / ExactSum.major(incoming.sum) : .nan
    }

    /// The features the reference data gives alone: reports, institution types, the customer's linked accounts.
    /// `customer.*` windows are the extractor's (they need the feature store).
    static func referenceFeatures(_ facts: ReferenceFacts, at millis: Int64, into features: inout [Double]) {
        func set(_ feature: Feature, _ value: Double) { features[feature.rawValue] = value }
        var count = 0
        var latest: Int64?
        for report in facts.creditorReports where report.knownAt <= millis {
            if report.reportedAt > millis - 90 * 86_400_000 { count += 1 }
            latest = max(latest ?? report.reportedAt, report.reportedAt)
        }
        set(.creditorReportedFraudCount90d, Double(count))
        set(.creditorDaysSinceLastReport, latest.map { Double(millis - $0) / 86_400_000 } ?? .nan)
        set(.creditorInstitutionType, facts.creditorInstitution?.featureCode ?? .nan)
        set(.debtorInstitutionType, facts.debtorInstitution?.featureCode ?? .nan)
        set(.customerLinkedAccounts, facts.customer != nil ? Double(facts.linkedAccounts) : .nan)
        set(.customerCount24h, .nan)
        set(.customerSum24h, .nan)
        set(.customerCount7d, .nan)
        set(.customerDistinctCreditors24h, .nan)
    }

    /// The features the request alone gives (`request.*`), with every state feature missing (NaN): what a node scores
    /// from when its shared state store has failed and it is configured to degrade rather than refuse.
    public static func requestOnly(_ payment: TokenizedPayment) -> [Double] {
        var features = [Double](repeating: .nan, count: Feature.count)
        requestFeatures(payment, into: &features)
        return features
    }

    static func requestFeatures(_ payment: TokenizedPayment, into features: inout [Double]) {
        func set(_ feature: Feature, _ value: Double) { features[feature.rawValue] = value }
        set(.requestConfirmationOfPayee, payment.confirmationOfPayee.map(Self.code) ?? .nan)
        set(.requestChannel, payment.channel.map(Self.channelCode) ?? .nan)
        set(.requestScheme, Self.schemeCode(payment.scheme))
        set(.requestAmountLog10, log10(payment.amount.majorUnits))
        set(.requestPayeeKnownDays, payment.payeeFirstSeenAt.map { Double(max(0, payment.createdAt.epochMillis - $0.epochMillis)) / 86_400_000 } ?? .nan)
    }

    /// What the debtor's state says about a payment, read before the payment is counted.
    struct DebtorReading: Sendable {
        var windows: (WindowLadder.Totals, WindowLadder.Totals, WindowLadder.Totals, WindowLadder.Totals)
        /// 30 d, 90 d.
        var long: (WindowLadder.Totals, WindowLadder.Totals)
        var distinctCreditors: Int
        var mean: Double
        var std: Double
        var zscore: Double
        var unusualHour: Double
        var ageDays: Double
    }

    /// What the customer's record says about a payment, read before the payment is counted.
    struct CustomerReading: Sendable {
        var w24h: WindowLadder.Totals
        var w7d: WindowLadder.Totals
        var distinctCreditors: Int
    }

    /// What the creditor's state says about a payment, read before the payment is counted.
    struct CreditorReading: Sendable {
        var in1h: WindowLadder.Totals
        var in24h: WindowLadder.Totals
        var distinctBanks: Int
        var passThrough: Double
        var ageDays: Double
        var in30d: WindowLadder.Totals
        var in90d: WindowLadder.Totals
        /// 30 d, 90 d.
        var distinctSenders: (Int, Int)
        var passThroughLong: (Double, Double)
    }

    func distinctDebtors(_ entity: Token, debtor: Token, at t: Int64, applying: Application) async throws(StateStoreError) -> Double {
        try await store.withEntity(entity, applying: applying) { state in
            let count = state.debtors.count(at: t)
            state.debtors.insert(debtor.short, at: t)
            return Double(count)
        }
    }

    static func code(_ result: ConfirmationOfPayee) -> Double {
        switch result {
        case .match: 0
        case .closeMatch: 1
        case .noMatch: 2
        case .unavailable: 3
        }
    }

    static func channelCode(_ channel: String) -> Double {
        switch channel {
        case "mobile": 0
        case "web": 1
        case "branch": 2
        case "api": 3
        default: 4
        }
    }

    static func schemeCode(_ scheme: String) -> Double {
        switch scheme {
        case "FPS": 0
        case "SEPA_INST": 1
        case "PIX": 2
        case "UPI": 3
        case "FEDNOW": 4
        case "RTP": 5
        default: 6
        }
    }
}
