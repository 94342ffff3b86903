import Foundation
import VigilDomain

/// Fraud woven into the history: APP scams, account takeovers, the mule accounts their money goes through, and
/// first-party disputes, each labelled when (and as what) it is reported.
extension SimulationRun {
    private static let hour: Int64 = 3_600_000
    private static let day: Int64 = 86_400_000

    /// The kinds of APP scam, which differ in amounts, timing, payees and name-check results.
    enum ScamKind: CaseIterable {
        case purchase, investment, romance, impersonation
    }

    /// Adds fraud scenarios until they make up `targetRows` payments (a scenario is never cut short to fit).
    func planFraud(targetRows: Int, _ random: inout RandomSource) {
        var attempts = 0
        while placedCount < targetRows, attempts < targetRows * 20 + 100 {
            attempts += 1
            let roll = random.uniform()
            if roll < 0.66 {
                appScam(&random)
            } else if roll < 0.78 {
                accountTakeover(&random)
            } else {
                firstParty(&random)
            }
        }
    }

    // MARK: Scenarios

    private func appScam(_ random: inout RandomSource) {
        let victimIndex = random.int(below: world.customers.count)
        let victim = world.customers[victimIndex]
        let rail = Bank.all[victim.bank].rail
        let kind = ScamKind.allCases[random.weighted([0.35, 0.2, 0.15, 0.3])]
        let count: Int
        var amount: Double
        let growth: Double
        switch kind {
        case .purchase:
            count = random.chance(0.8) ? 1 : 2
            amount = random.logNormal(mu: log(250 * rail.amountScale), sigma: 0.9)
            growth = 1
        case .investment:
            count = random.int(in: 3...8)
            amount = random.logNormal(mu: log(300 * rail.amountScale), sigma: 0.6)
            growth = random.double(in: 1.3...2.0)
        case .romance:
            count = random.int(in: 4...12)
            amount = random.logNormal(mu: log(150 * rail.amountScale), sigma: 0.7)
            growth = random.double(in: 1.15...1.6)
        case .impersonation:
            count = random.int(in: 1...4)
            amount = random.logNormal(mu: log(3000 * rail.amountScale), sigma: 0.8)
            growth = random.double(in: 0.5...1.0)
        }
        let day = random.int(below: timeline.days)
        let unusual = random.chance(kind == .impersonation ? 0.3 : 0.12)
        let hour = unusual ? random.int(below: 6) : DailyRhythm.hour(weekend: timeline.weekday(day: day) >= 5, shift: victim.hourShift, &random)
        var millis = timeline.instant(bank: victim.bank, day: day, secondOfDay: hour * 3600 + random.int(below: 3600), millis: random.int(below: 1000))
        var payee: Int32 = -1
        var campaign: Int?
        var payeeAdded: Int64 = 0
        var placed: [PaymentEvent] = []
        for i in 0..<count {
            if i > 0 {
                switch kind {
                case .purchase: millis += Int64(random.double(in: 1...48) * Double(SimulationRun.hour))
                case .investment: millis += Int64(random.double(in: 2...10) * Double(SimulationRun.day))
                case .romance: millis += Int64(random.double(in: 1...7) * Double(SimulationRun.day))
                case .impersonation: millis += Int64(random.double(in: 5...40) * 60_000)
                }
                amount *= growth
            }
            let reuse = i > 0 && random.chance(kind == .impersonation ? 0.6 : kind == .purchase ? 1.0 : 0.7)
            if !reuse || campaign.map({ campaigns[$0].endMillis <= millis }) == true {
                (payee, campaign) = scamPayee(kind, rail: rail, victimBank: victim.bank, at: millis, &random)
                payeeAdded = millis - Int64(random.double(in: 1...30) * 60_000)
            } else if let active = campaign {
                campaigns[active].capacity -= 1
            }
            let roundAmount = random.chance(0.5) ? (amount / 10).rounded() * 10 : amount
            // Once the main account runs dry, some victims carry on from their second account.
            let debtor = victim.second >= 0 && random.chance(i == 0 ? 0.1 : 0.4) ? victim.second : victim.account
            var event = PaymentEvent(
                millis: millis, sequence: takeSequence(), debtor: debtor, creditor: payee,
                amountMinor: minorUnits(roundAmount, rail), scheme: Bank.all[victim.bank].scheme(&random)
            )
            decorate(&event, customer: victim, day: day, firstSeen: payeeAdded, receiving: campaign == nil ? 0.2 : 0.4, random: &random)
            let weights: [Double] = switch kind {
            case .purchase: [0.55, 0.2, 0.15, 0.1]
            case .investment: campaign == nil ? [0.9, 0.06, 0.02, 0.02] : [0.5, 0.2, 0.2, 0.1]
            case .romance: [0.6, 0.2, 0.12, 0.08]
            case .impersonation: [0.3, 0.25, 0.35, 0.1]
            }
            event.confirmation = event.perspective == .receiving ? .none : SimulationRun.confirmation(rail: rail, weights: weights, &random)
            ReferenceText.choose(kind.reference, for: &event, &random)
            guard place(event) else { break }
            placed.append(event)
            if let campaign { forward(from: campaign, received: event.amountMinor, at: millis, &random) }
        }
        guard let last = placed.last?.millis else { return }
        let delay: Double = switch kind {
        case .purchase: random.double(in: 1...14) * Double(SimulationRun.day)
        case .investment, .romance: random.double(in: 3...45) * Double(SimulationRun.day)
        case .impersonation: random.double(in: 2...120) * Double(SimulationRun.hour)
        }
        for event in placed {
            let type: FraudType
            if event.perspective == .receiving, isMule(event.creditor), random.chance(0.4) {
                type = .mule
            } else {
                type = random.chance(0.05) ? .other : .appScam
            }
            report(event, at: last + Int64(delay), as: type, unreported: 0.05, &random)
        }
    }

    private func accountTakeover(_ random: inout RandomSource) {
        let victim = world.customers[random.int(below: world.customers.count)]
        let bank = Bank.all[victim.bank]
        let rail = bank.rail
        let day = random.int(below: timeline.days)
        let hour = random.chance(0.4) ? random.int(below: 6) : random.int(below: 24)
        var millis = timeline.instant(bank: victim.bank, day: day, secondOfDay: hour * 3600 + random.int(below: 3600), millis: random.int(below: 1000))
        let device = fraudDevice(reuse: 0.35, &random)
        let ip = fraudIP(reuse: 0.4, hosting: 0.6, region: bank.region, &random)
        let channel: Channel = random.chance(0.55) ? .web : .mobile
        var balance = victim.recurring.map { Double($0.salaryMinor) / 100 * random.double(in: 0.3...2) }
            ?? exp(victim.amountMu) * random.double(in: 10...60)
        let payees = (0..<random.int(in: 1...3)).map { _ in findMule(rail: rail, at: millis, long: false, &random) }
        let addedAt = payees.map { _ in millis - Int64(random.double(in: 1...10) * 60_000) }
        var amounts: [Double] = random.chance(0.3) ? [Double(random.int(in: 1...5))] : []
        for i in 0..<random.int(in: 2...5) {
            let part = i == 4 ? 0.9 : random.double(in: 0.3...0.7)
            amounts.append(balance * part)
            balance -= balance * part
        }
        var placed: [PaymentEvent] = []
        for (i, amount) in amounts.enumerated() {
            if i > 0 { millis += Int64(random.double(in: 2...20) * 60_000) }
            let target = i % payees.count
            let campaign = payees[target]
            // A takeover drains every account the login reaches.
            let debtor = victim.second >= 0 && random.chance(0.4) ? victim.second : victim.account
            var event = PaymentEvent(
                millis: millis, sequence: takeSequence(), debtor: debtor, creditor: campaigns[campaign].account,
                amountMinor: minorUnits(random.chance(0.4) ? amount.rounded() : amount, rail), scheme: bank.scheme(&random)
            )
            event.debtorAsIBAN = rail == .fasterPayments && random.chance(0.05)
            if random.chance(0.2) {
                event.perspective = .receiving
            } else {
                event.channel = channel
                event.device = device
                event.ip = ip
                if bank.sendsPayeeFirstSeen { event.payeeFirstSeenMillis = addedAt[target] }
                event.confirmation = random.chance(0.15)
                    ? .none : SimulationRun.confirmation(rail: rail, weights: [0.5, 0.18, 0.24, 0.08], &random)
            }
            ReferenceText.choose(.mule, for: &event, &random)
            guard place(event) else { break }
            placed.append(event)
            forward(from: campaign, received: event.amountMinor, at: millis, &random)
        }
        guard let last = placed.last?.millis else { return }
        let reported = last + Int64(random.double(in: 1...96) * Double(SimulationRun.hour))
        for event in placed { report(event, at: reported, as: .accountTakeover, unreported: 0.03, &random) }
    }

    /// A customer's own genuine-looking payment that they later dispute.
    private func firstParty(_ random: inout RandomSource) {
        let customer = random.int(below: world.customers.count)
        let purpose: Purpose = random.element(of: [.marketplace, .newFriend, .occasional, .exchange])
        var event = genuinePayment(customer: customer, day: random.int(below: timeline.days), purpose: purpose, &random)
        event.amountMinor = min(event.amountMinor * Int64(random.int(in: 2...5)), Bank.all[world.customers[customer].bank].rail.limitMinorUnits)
        guard place(event) else { return }
        report(event, at: event.millis + Int64(random.double(in: 14...60) * Double(SimulationRun.day)), as: .firstParty, unreported: 0, &random)
    }

    // MARK: Mules

    /// Where a scam payment goes: a mule account (with its campaign), or for some investment scams a real exchange.
    private func scamPayee(_ kind: ScamKind, rail: Rail, victimBank: Int, at millis: Int64, _ random: inout RandomSource) -> (Int32, Int?) {
        let pool = world.pools[rail.rawValue]
        if kind == .investment, random.chance(0.35) { return (random.element(of: pool.exchanges), nil) }
        if kind == .purchase, random.chance(0.3) {
            // A fraudulent seller's own, fresh account: no mule network behind it.
            return (world.addAccount(bank: world.fraudBank(on: rail, nonBank: 0.4, &random), &random), nil)
        }
        let campaign = findMule(rail: rail, at: millis, long: kind == .romance || kind == .investment, &random)
        return (campaigns[campaign].account, campaign)
    }

    /// An active mule campaign on `rail` with room for another incoming payment, or a new one.
    private func findMule(rail: Rail, at millis: Int64, long: Bool, layer: Int = 1, excluding: Int? = nil, _ random: inout RandomSource) -> Int {
        let minimumLeft = long ? 10 * SimulationRun.day : 0
        if random.chance(0.85) {
            for (index, campaign) in campaigns.enumerated().reversed()
            where campaign.rail == rail && campaign.layer == layer && campaign.capacity > 0 && index != excluding
                && campaign.startMillis <= millis && campaign.endMillis > millis + minimumLeft {
                campaigns[index].capacity -= 1
                return index
            }
        }
        let pool = world.pools[rail.rawValue]
        let roll = random.uniform()
        let account: Int32
        if roll < 0.55 || pool.customers.isEmpty {
            // A fresh account opened for the ring: online-only e-money and payment accounts are the easiest to open.
            account = world.addAccount(bank: world.fraudBank(on: rail, nonBank: 0.5, &random), &random)
        } else if roll < 0.85 {
            account = world.customers[Int(random.element(of: pool.customers))].account
        } else {
            // A long-dormant account: the least active of a handful of the rail's customers.
            let candidates = (0..<12).map { _ in Int(random.element(of: pool.customers)) }
            account = world.customers[candidates.min { world.customers[$0].activity < world.customers[$1].activity }!].account
        }
        let region = Bank.all[world.accounts[Int(account)].bank].region
        let device = fraudDevice(reuse: 0.4, &random)
        let ip = fraudIP(reuse: 0.5, hosting: 0.5, region: region, &random)
        let duration = long ? random.double(in: 15...45) * Double(SimulationRun.day) : random.double(in: 1...5) * Double(SimulationRun.day)
        campaigns.append(MuleCampaign(
            account: account, rail: rail, startMillis: millis - Int64(random.double(in: 0...6) * Double(SimulationRun.hour)),
            endMillis: millis + Int64(duration), capacity: long ? 30 : random.int(in: 4...15) - 1, layer: layer, held: 0,
            device: device, ip: ip
        ))
        return campaigns.count - 1
    }

    /// The mule moves most of what it holds on within hours, to another mule, an exchange or a cash-out account;
    /// sometimes it waits for more to arrive first.
    private func forward(from campaignIndex: Int, received: Int64, at millis: Int64, _ random: inout RandomSource) {
        campaigns[campaignIndex].held += received
        guard random.chance(0.6) else { return }
        let campaign = campaigns[campaignIndex]
        campaigns[campaignIndex].held = 0
        let rail = campaign.rail
        let pool = world.pools[rail.rawValue]
        let mule = world.accounts[Int(campaign.account)]
        var total = Double(campaign.held) / 100 * random.double(in: 0.85...0.97)
        var when = millis + Int64((3 + random.exponential(mean: 80)) * 60_000)
        let parts = random.weighted([0.75, 0.2, 0.05]) + 1
        for part in 0..<parts {
            if part > 0 { when += Int64(random.double(in: 1...15) * 60_000) }
            let amount = part == parts - 1 ? total : total * random.double(in: 0.3...0.7)
            total -= amount
            var next: Int?
            let creditor: Int32
            if campaign.layer == 1, random.chance(0.2) {
                let layer2 = findMule(rail: rail, at: when, long: false, layer: 2, excluding: campaignIndex, &random)
                next = layer2
                creditor = campaigns[layer2].account
            } else {
                creditor = random.chance(0.5) ? random.element(of: pool.exchanges) : random.element(of: pool.cashOut)
            }
            guard creditor != campaign.account else { continue }
            var event = PaymentEvent(
                millis: when, sequence: takeSequence(), debtor: campaign.account, creditor: creditor,
                amountMinor: minorUnits(amount, rail), scheme: Bank.all[mule.bank].scheme(&random)
            )
            if random.chance(0.5) {
                event.perspective = .receiving
            } else {
                event.channel = random.chance(0.7) ? .mobile : .web
                event.device = campaign.device
                event.ip = campaign.ip
                if Bank.all[mule.bank].sendsPayeeFirstSeen {
                    event.payeeFirstSeenMillis = when - Int64(random.double(in: 1...60) * 60_000)
                }
                event.confirmation = SimulationRun.confirmation(rail: rail, weights: [0.75, 0.1, 0.08, 0.07], &random)
            }
            ReferenceText.choose(.mule, for: &event, &random)
            guard place(event) else { return }
            report(event, at: when + Int64(random.double(in: 2...30) * Double(SimulationRun.day)), as: .mule, unreported: 0.1, &random)
            if let next { forward(from: next, received: event.amountMinor, at: when, &random) }
        }
    }

    private func isMule(_ account: Int32) -> Bool { campaigns.contains { $0.account == account } }

    // MARK: Helpers

    /// A fraudster's device: one already used on other victims or mules with probability `reuse`, else a new one.
    private func fraudDevice(reuse: Double, _ random: inout RandomSource) -> Int32 {
        if !fraudDevices.isEmpty, random.chance(reuse) { return random.element(of: fraudDevices) }
        let device = world.addDevice(&random)
        fraudDevices.append(device)
        return device
    }

    /// A fraudster's IP: a reused one with probability `reuse`, else a new data-centre (`hosting`) or local address.
    private func fraudIP(reuse: Double, hosting: Double, region: Region, _ random: inout RandomSource) -> Int32 {
        if !fraudIPs.isEmpty, random.chance(reuse) { return random.element(of: fraudIPs) }
        let ip = world.addIP(random.chance(hosting) ? NetworkAddresses.hostingIP(&random) : NetworkAddresses.ip(region, &random))
        fraudIPs.append(ip)
        return ip
    }

    /// Labels a placed fraud payment, unless nobody reports it (`unreported` probability).
    private func report(_ event: PaymentEvent, at millis: Int64, as type: FraudType, unreported: Double, _ random: inout RandomSource) {
        if random.chance(unreported) {
            self.unreported += 1
            return
        }
        // The payee's bank reports the mule it holds; the payer's bank reports everything else, a mule's own
        // outgoing payments included.
        let side: PaymentEvent.Side = type == .mule && isMule(event.creditor) && !isMule(event.debtor) ? .receiving : .sending
        labels.append(Label(
            sequence: event.sequence, debtorBank: world.accounts[Int(event.debtor)].bank,
            reportedAtMillis: max(millis, event.millis + SimulationRun.hour), type: type, creditor: event.creditor,
            amountMinor: event.amountMinor, scheme: event.scheme, side: side
        ))
    }
}

extension SimulationRun.ScamKind {
    var reference: ReferenceText.Purpose {
        switch self {
        case .purchase: .purchase
        case .investment: .investment
        case .romance: .romance
        case .impersonation: .safeAccount
        }
    }
}
