import Foundation
public import VigilDomain

/// Computes a payment's features from what was known before it, then folds the payment into the state.
///
/// This one function serves online scoring, recovery and offline replay, so a replayed history gives
/// exactly the values the server computed. Times come from the payment's `createdAt`, never the clock.
public struct FeatureExtractor<Store: FeatureStore>: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Writes `Feature.count` values into `features` (NaN = missing) and updates the state.
    public func observe(_ payment: TokenizedPayment, into features: inout [Double]) {
        if features.count != Feature.count { features = [Double](repeating: .nan, count: Feature.count) }
        let t = payment.createdAt.epochMillis >= 0 ? payment.createdAt.epochMillis / 1000 : (payment.createdAt.epochMillis - 999) / 1000
        let amount = payment.amount.majorUnits
        let debtor = payment.debtor.account
        let creditor = payment.creditor.account
        func set(_ feature: Feature, _ value: Double) { features[feature.rawValue] = value }

        let pair = store.withPair(debtor: debtor, creditor: creditor) { state in
            let previous = state.count
            let daysSinceLast = previous > 0 ? Double(max(0, t - state.lastAt)) / 86_400 : .nan
            let versusMax = previous > 0 && state.maxAmount > 0 ? amount / state.maxAmount : .nan
            state.recent.removeAll { $0.at <= t - 600 }
            let double = state.recent.contains {
                $0.minorUnits == payment.amount.minorUnits && $0.currency == payment.amount.currency.code && abs(t - $0.at) <= 600
            }
            state.count += 1
            state.lastAt = max(state.lastAt, t)
            state.maxAmount = max(state.maxAmount, amount)
            if state.recent.count == 8 { state.recent.removeFirst() }
            state.recent.append((t, payment.amount.minorUnits, payment.amount.currency.code))
            return (previous: previous, daysSinceLast: daysSinceLast, versusMax: versusMax, double: double)
        }
        let newPayee = pair.previous == 0
        set(.pairNewPayee, newPayee ? 1 : 0)
        set(.pairCount, Double(pair.previous))
        set(.pairDaysSinceLast, pair.daysSinceLast)
        set(.pairAmountVsMax, pair.versusMax)
        set(.pairPossibleDoublePayment, pair.double ? 1 : 0)

        let hour = payment.createdAt.localHour
        let outgoing = store.withAccount(debtor) { state in
            let w5m = state.outgoing5m.total(at: t)
            let w1h = state.outgoing1h.total(at: t)
            let w24h = state.outgoing24h.total(at: t)
            let w7d = state.outgoing7d.total(at: t)
            let distinct = state.creditors24h.count(at: t)
            let mean = state.amounts.count > 0 ? state.amounts.mean : .nan
            let std = state.amounts.standardDeviation
            let zscore = std > 0 ? (amount - state.amounts.mean) / std : .nan
            let total = state.hours.reduce(0) { $0 + Int($1) }
            let unusual = total > 0 ? 1 - (Double(state.hours[hour]) + 1) / (Double(total) + 24) : .nan
            let age = state.firstSeen.map { Double(max(0, t - $0)) / 86_400 } ?? 0

            state.outgoing5m.add(at: t, amount: amount)
            state.outgoing1h.add(at: t, amount: amount)
            state.outgoing24h.add(at: t, amount: amount)
            state.outgoing7d.add(at: t, amount: amount)
            state.creditors24h.insert(creditor.short, at: t)
            state.amounts.add(amount)
            state.hours[hour] &+= 1
            state.firstSeen = min(state.firstSeen ?? t, t)
            return [Double(w5m.count), w5m.sum, Double(w1h.count), w1h.sum, Double(w24h.count), w24h.sum,
                    Double(w7d.count), w7d.sum, Double(distinct), mean, std, zscore, unusual, age]
        }
        for (offset, value) in outgoing.enumerated() { features[Feature.debtorCount5m.rawValue + offset] = value }

        let bank = payment.debtor.agent.map { FNV1a.hash($0.utf8) }
        let inbound = store.withAccount(creditor) { state in
            let first1h = state.firstTimeSenders1h.total(at: t).count
            let first24h = state.firstTimeSenders24h.total(at: t).count
            let banks = state.sendingBanks24h.count(at: t)
            let in1h = state.inbound1h.total(at: t)
            let in24h = state.inbound24h.total(at: t)
            let out24h = state.outgoing24h.total(at: t)
            let passThrough = in24h.sum > 0 ? out24h.sum / in24h.sum : .nan
            let age = state.firstInbound.map { Double(max(0, t - $0)) / 86_400 } ?? 0

            state.inbound1h.add(at: t, amount: amount)
            state.inbound24h.add(at: t, amount: amount)
            if newPayee {
                state.firstTimeSenders1h.add(at: t, amount: amount)
                state.firstTimeSenders24h.add(at: t, amount: amount)
            }
            if let bank { state.sendingBanks24h.insert(bank, at: t) }
            state.firstInbound = min(state.firstInbound ?? t, t)
            state.firstSeen = min(state.firstSeen ?? t, t)
            return [Double(first1h), Double(first24h), Double(banks), Double(in1h.count), in1h.sum,
                    Double(in24h.count), in24h.sum, passThrough, age]
        }
        for (offset, value) in inbound.enumerated() { features[Feature.creditorFirstTimeSenders1h.rawValue + offset] = value }

        set(.deviceDistinctDebtors24h, payment.device.map { distinctDebtors($0, debtor: debtor, at: t) } ?? .nan)
        set(.ipDistinctDebtors24h, payment.ip.map { distinctDebtors($0, debtor: debtor, at: t) } ?? .nan)

        set(.requestConfirmationOfPayee, payment.confirmationOfPayee.map(Self.code) ?? .nan)
        set(.requestChannel, payment.channel.map(Self.channelCode) ?? .nan)
        set(.requestScheme, Self.schemeCode(payment.scheme))
        set(.requestAmountLog10, log10(amount))
        set(.requestPayeeKnownDays, payment.payeeFirstSeenAt.map { Double(max(0, payment.createdAt.epochMillis - $0.epochMillis)) / 86_400_000 } ?? .nan)
    }

    func distinctDebtors(_ entity: Token, debtor: Token, at t: Int64) -> Double {
        store.withEntity(entity) { state in
            let count = state.debtors24h.count(at: t)
            state.debtors24h.insert(debtor.short, at: t)
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
