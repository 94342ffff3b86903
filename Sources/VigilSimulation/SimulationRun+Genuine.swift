import Foundation

/// Genuine activity: everyday payments and monthly salary, rent and bills.
extension SimulationRun {
    /// What an everyday payment is for.
    enum Purpose {
        case knownPayee, occasional, marketplace, savings, exchange, largeOneOff, bill, newFriend
    }

    /// An everyday payment by `customer` on local day `day`; `purpose` nil draws one.
    func genuinePayment(customer index: Int, day: Int, purpose chosen: Purpose? = nil, _ random: inout RandomSource) -> PaymentEvent {
        let customer = world.customers[index]
        let bank = Bank.all[customer.bank]
        let rail = bank.rail
        let pool = world.pools[rail.rawValue]
        let weekday = timeline.weekday(day: day)
        let hour = DailyRhythm.hour(weekend: weekday >= 5, shift: customer.hourShift, &random)
        let millis = timeline.instant(
            bank: customer.bank, day: day, secondOfDay: hour * 3600 + random.int(below: 3600), millis: random.int(below: 1000)
        )
        let purpose = chosen ?? SimulationRun.drawPurpose(&random)
        var creditor: Int32
        var amount: Double
        var known = true
        var business = true
        var firstSeen: Int64 = .min
        var reference = ReferenceText.Purpose.shop
        switch purpose {
        case .knownPayee where !customer.payees.isEmpty:
            let payee = world.knownPayees[customer.payees.lowerBound + random.int(below: customer.payees.count)]
            creditor = payee.account
            firstSeen = payee.addedAtMillis
            business = payee.isBusiness
            if business {
                amount = payee.typicalAmount * random.logNormal(mu: 0, sigma: 0.5)
            } else {
                amount = random.logNormal(mu: customer.amountMu, sigma: customer.amountSigma)
                reference = .friend
            }
        case .knownPayee, .occasional:
            creditor = random.element(of: pool.occasional)
            amount = random.logNormal(mu: customer.amountMu + 1.2, sigma: customer.amountSigma)
            known = false
            business = false
            reference = .tradesperson
        case .marketplace:
            creditor = random.element(of: pool.marketplaces)
            amount = random.logNormal(mu: log(45 * rail.amountScale), sigma: 0.9)
            known = random.chance(0.3)
        case .savings:
            creditor = customer.savings
            amount = (random.logNormal(mu: customer.amountMu + 1.6, sigma: 0.8) / 10).rounded(.up) * 10
            business = false
            reference = .savings
            firstSeen = timeline.startMillis - Int64(random.double(in: 30...2000) * 86_400_000)
        case .exchange:
            creditor = random.element(of: pool.exchanges)
            amount = random.logNormal(mu: customer.amountMu + 1.3, sigma: 1.0)
            known = random.chance(0.5)
            reference = .investment
        case .largeOneOff:
            creditor = random.element(of: pool.occasional)
            amount = (random.logNormal(mu: customer.amountMu + 3.6, sigma: 0.7) / 100).rounded(.up) * 100
            known = false
            reference = .tradesperson
        case .bill:
            creditor = random.element(of: pool.utilities)
            amount = random.logNormal(mu: log(60 * rail.amountScale), sigma: 0.5)
            reference = .bill
        case .newFriend:
            creditor = world.customers[Int(random.element(of: pool.customers))].account
            amount = random.logNormal(mu: customer.amountMu, sigma: customer.amountSigma)
            known = false
            business = false
            reference = .friend
        }
        if creditor == customer.account { creditor = customer.savings }
        if !business, random.chance(rail == .upi ? 0.7 : 0.5) { amount = amount.rounded(.up) }
        let debtor = customer.second >= 0 && random.chance(0.25) ? customer.second : customer.account
        var event = PaymentEvent(
            millis: millis, sequence: takeSequence(), debtor: debtor, creditor: creditor,
            amountMinor: minorUnits(amount, rail), scheme: bank.scheme(&random)
        )
        if !known { firstSeen = SimulationRun.newPayeeFirstSeen(before: millis, &random) }
        decorate(&event, customer: customer, day: day, firstSeen: firstSeen, random: &random)
        event.confirmation = SimulationRun.confirmation(
            rail: rail, weights: !known ? [0.78, 0.12, 0.06, 0.04] : business ? [0.86, 0.08, 0.04, 0.02] : [0.95, 0.03, 0.01, 0.01],
            &random
        )
        if event.perspective == .receiving { event.confirmation = .none }
        ReferenceText.choose(reference, for: &event, &random)
        return event
    }

    private static func drawPurpose(_ random: inout RandomSource) -> Purpose {
        let roll = random.uniform()
        if roll < 0.55 { return .knownPayee }
        if roll < 0.63 { return .occasional }
        if roll < 0.70 { return .marketplace }
        if roll < 0.76 { return .savings }
        if roll < 0.785 { return .exchange }
        if roll < 0.795 { return .largeOneOff }
        if roll < 0.85 { return .bill }
        return .newFriend
    }

    /// When a payee the customer is paying for the first time was added: usually just now, sometimes days ago.
    static func newPayeeFirstSeen(before millis: Int64, _ random: inout RandomSource) -> Int64 {
        random.chance(0.8)
            ? millis - Int64(random.double(in: 20...1800) * 1000)
            : millis - Int64(random.double(in: 1...20) * 86_400_000)
    }

    /// A Confirmation-of-Payee result: `weights` for match, close match, no match, unavailable where the rail has
    /// the check; elsewhere mostly absent.
    static func confirmation(rail: Rail, weights: [Double], _ random: inout RandomSource) -> PaymentEvent.Confirmation {
        guard rail.hasConfirmationOfPayee, random.chance(0.95) else {
            return random.chance(0.3) ? .unavailable : .none
        }
        switch random.weighted(weights) {
        case 0: return .match
        case 1: return .closeMatch
        case 2: return .noMatch
        default: return .unavailable
        }
    }

    /// Whole minor units, at least one, within the scheme limit.
    func minorUnits(_ amount: Double, _ rail: Rail) -> Int64 {
        min(max(1, Int64((amount * 100).rounded())), rail.limitMinorUnits)
    }

    /// Perspective, channel, device, IP, payee date and account spelling of a payment by `customer`.
    func decorate(
        _ event: inout PaymentEvent, customer: Customer, day: Int, firstSeen: Int64, receiving: Double = 0.3,
        random: inout RandomSource
    ) {
        let bank = Bank.all[customer.bank]
        event.debtorAsIBAN = bank.rail == .fasterPayments && random.chance(0.05)
        event.creditorAsIBAN = bank.rail == .fasterPayments && random.chance(0.1)
        if random.chance(receiving) {
            event.perspective = .receiving
            return
        }
        if bank.sendsPayeeFirstSeen, firstSeen != .min, random.chance(0.85) {
            event.payeeFirstSeenMillis = min(firstSeen, event.millis)
        }
        let channel = random.chance(0.9) ? customer.preferredChannel : random.chance(0.7) ? .mobile : .web
        event.channel = channel
        guard channel != .branch else { return }
        let switched = day >= customer.deviceSwitchDay
        event.device = switched || (customer.secondDevice >= 0 && random.chance(0.2)) && customer.secondDevice >= 0
            ? customer.secondDevice : customer.device
        let roll = random.uniform()
        if channel == .mobile && roll < 0.45 {
            event.ip = customer.mobileIP
        } else if roll < 0.9 {
            event.ip = customer.homeIP
        } else {
            // A friend's Wi-Fi or a café: someone else's usual address.
            let pool = world.pools[bank.rail.rawValue].customers
            event.ip = world.customers[Int(random.element(of: pool))].homeIP
        }
    }

    /// Picks which customers' monthly payments fall in the period, keeping them within `budget` rows.
    /// - Returns: how many rows they will be.
    func scheduleRecurring(budget: Int, _ random: inout RandomSource) -> Int {
        var byDay: [[(customer: Int32, kind: RecurringKind)]] = Array(repeating: [], count: timeline.days)
        var perCustomer = 0
        for day in 0..<timeline.days {
            let (year, month, dayOfMonth) = CivilDate.civil(epochDay: timeline.startEpochDay + day)
            let lastDay = CivilDate.daysIn(month: month, year: year)
            func due(_ scheduled: Int) -> Bool { scheduled == dayOfMonth || (dayOfMonth == lastDay && scheduled > lastDay) }
            for (index, customer) in world.customers.enumerated() {
                guard let recurring = customer.recurring else { continue }
                if due(recurring.salaryDay) { byDay[day].append((Int32(index), .salary)) }
                if due(recurring.rentDay) { byDay[day].append((Int32(index), .rent)) }
                if due(recurring.billDay) { byDay[day].append((Int32(index), .bill)) }
            }
            perCustomer += byDay[day].count
        }
        if perCustomer > budget {
            // Keep a random share of customers' standing orders so they stay a minority of the rows.
            let keep = Double(budget) / Double(perCustomer)
            let kept = world.customers.indices.map { _ in random.chance(keep) }
            byDay = byDay.map { $0.filter { kept[Int($0.customer)] } }
        }
        recurringByDay = byDay
        return byDay.reduce(0) { $0 + $1.count }
    }

    /// Places the salary, rent and bill payments due on local day `day`.
    func generateRecurring(day: Int, _ random: inout RandomSource) {
        for (index, kind) in recurringByDay[day] {
            let customer = world.customers[Int(index)]
            guard let recurring = customer.recurring else { continue }
            let bank = Bank.all[customer.bank]
            let rail = bank.rail
            var event: PaymentEvent
            switch kind {
            case .salary:
                // Payroll runs as an overnight batch through an API, with no device and no name check.
                let millis = timeline.instant(
                    bank: customer.bank, day: day, secondOfDay: random.int(below: 6 * 3600), millis: random.int(below: 1000)
                )
                let employerBank = world.accounts[Int(recurring.employer)].bank
                event = PaymentEvent(
                    millis: millis, sequence: takeSequence(), debtor: recurring.employer, creditor: customer.account,
                    amountMinor: recurring.salaryMinor, scheme: Bank.all[employerBank].scheme(&random)
                )
                event.perspective = random.chance(0.45) ? .receiving : .sending
                event.channel = .api
                ReferenceText.choose(.salary, for: &event, &random)
                place(event)
                continue
            case .rent:
                let millis = timeline.instant(
                    bank: customer.bank, day: day, secondOfDay: 6 * 3600 + random.int(below: 3 * 3600), millis: random.int(below: 1000)
                )
                event = PaymentEvent(
                    millis: millis, sequence: takeSequence(), debtor: customer.account, creditor: recurring.landlord,
                    amountMinor: recurring.rentMinor, scheme: bank.scheme(&random)
                )
                ReferenceText.choose(.rent, for: &event, &random)
            case .bill:
                let millis = timeline.instant(
                    bank: customer.bank, day: day, secondOfDay: 3 * 3600 + random.int(below: 5 * 3600), millis: random.int(below: 1000)
                )
                let amount = Double(recurring.billMinor) / 100 * random.double(in: 0.85...1.15)
                event = PaymentEvent(
                    millis: millis, sequence: takeSequence(), debtor: customer.account, creditor: recurring.utility,
                    amountMinor: minorUnits(amount, rail), scheme: bank.scheme(&random)
                )
                event.isPull = random.chance(0.7)
                ReferenceText.choose(.bill, for: &event, &random)
            }
            // Standing orders and collections run without the customer: no device, no channel, no fresh name check.
            event.debtorAsIBAN = rail == .fasterPayments && random.chance(0.05)
            event.perspective = random.chance(0.3) ? .receiving : .sending
            if event.perspective == .sending, bank.sendsPayeeFirstSeen {
                event.payeeFirstSeenMillis = timeline.startMillis - Int64(random.double(in: 30...900) * 86_400_000)
            }
            place(event)
        }
    }
}
