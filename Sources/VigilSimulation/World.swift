import Foundation
import VigilDomain

/// Everything the simulated payments move between: accounts, customers, businesses, devices and addresses.
struct World {
    var accounts: [Account] = []
    var customers: [Customer] = []
    var knownPayees: [KnownPayee] = []
    /// Device ids and IP addresses, referred to by index from customers and payments.
    var devices: [[UInt8]] = []
    var ips: [[UInt8]] = []
    /// Businesses, payees and shared addresses of each rail, indexed by `Rail.rawValue`.
    var pools: [RailPool]
    /// Banks on each rail, indexed by `Rail.rawValue`.
    let banksByRail: [[Int]]

    /// The counterparties customers on one rail share.
    struct RailPool {
        /// Customers (indices into `customers`) banking on the rail.
        var customers: [Int32] = []
        /// Shops: many customers pay them, from every bank (legitimate fan-in).
        var merchants: [Int32] = []
        var merchantTypicalAmount: [Double] = []
        var utilities: [Int32] = []
        var employers: [Int32] = []
        var landlords: [Int32] = []
        /// Crypto exchanges and investment platforms: legitimate, and where scams and mules cash out too.
        var exchanges: [Int32] = []
        /// Pay-by-bank online shops: hundreds of first-time payers a day.
        var marketplaces: [Int32] = []
        /// Tradespeople and private sellers, each paid once or twice by a few customers.
        var occasional: [Int32] = []
        /// Accounts fraud rings empty mule accounts into.
        var cashOut: [Int32] = []
        /// Carrier-grade NAT addresses many mobile customers share.
        var carrierIPs: [Int32] = []
    }

    init(customerCount: Int, startMillis: Int64, random: inout RandomSource) {
        banksByRail = Rail.allCases.map { rail in Bank.all.indices.filter { Bank.all[$0].rail == rail } }
        pools = Array(repeating: RailPool(), count: Rail.allCases.count)
        let perBank = Allocation.largestRemainder(total: customerCount, weights: Bank.all.map(\.customerShare))
        for rail in Rail.allCases {
            let railCustomers = banksByRail[rail.rawValue].reduce(0) { $0 + perBank[$1] }
            buildPool(rail, customers: railCustomers, &random)
        }
        for (bank, count) in perBank.enumerated() {
            for _ in 0..<count { addCustomer(bank: bank, startMillis: startMillis, &random) }
        }
        for index in customers.indices { addKnownPayees(customer: index, startMillis: startMillis, &random) }
    }

    /// A new account at `bank`; `name` nil gives the holder a person's name of the account's region.
    mutating func addAccount(bank: Int, name: String? = nil, business: BusinessNames.Kind? = nil, _ random: inout RandomSource) -> Int32 {
        // The holder's region comes from the identifier (an N26 IBAN may be Spanish), so a generated name is only known
        // afterwards; scheme handles (UPI) of unnamed holders are built from a fixed stem instead.
        let handleStem = name ?? "x"
        let (identifier, region) = Bank.all[bank].newIdentifier(&random, holder: handleStem)
        let holder: String
        if let name {
            holder = name
        } else if let business {
            holder = BusinessNames.name(business, region: region, &random)
        } else {
            holder = region.personName(&random)
        }
        // UPI addresses carry the holder's name, so draw the identifier again now the name is known.
        let finalIdentifier = name == nil && identifier.scheme == "UPI"
            ? Bank.all[bank].newIdentifier(&random, holder: holder).0 : identifier
        accounts.append(Account(bank: bank, name: holder, identifier: finalIdentifier))
        return Int32(accounts.count - 1)
    }

    mutating func addDevice(_ random: inout RandomSource) -> Int32 {
        devices.append(Array(NetworkAddresses.deviceId(&random).utf8))
        return Int32(devices.count - 1)
    }

    mutating func addIP(_ text: String) -> Int32 {
        ips.append(Array(text.utf8))
        return Int32(ips.count - 1)
    }

    /// A bank on `rail`, weighted by its customer share.
    func bank(on rail: Rail, _ random: inout RandomSource) -> Int {
        let banks = banksByRail[rail.rawValue].filter { Bank.all[$0].customerShare > 0 }
        return banks[random.weighted(banks.map { Bank.all[$0].customerShare })]
    }

    /// Where a fraud ring opens an account on `rail`: with probability `nonBank` at one of the rail's e-money, payment
    /// or crypto-exchange institutions (when it has any), otherwise anywhere, like everyone else.
    func fraudBank(on rail: Rail, nonBank: Double, _ random: inout RandomSource) -> Int {
        let others = banksByRail[rail.rawValue].filter { !Bank.all[$0].isBank }
        guard !others.isEmpty, random.chance(nonBank) else { return bank(on: rail, &random) }
        return random.element(of: others)
    }

    /// A crypto-exchange institution on `rail`, if it has one.
    func exchangeInstitution(on rail: Rail) -> Int? {
        banksByRail[rail.rawValue].first { Bank.all[$0].institutionType == .cryptoExchange }
    }

    private mutating func buildPool(_ rail: Rail, customers count: Int, _ random: inout RandomSource) {
        var pool = RailPool()
        let region = Bank.all[banksByRail[rail.rawValue][0]].region
        func business(_ kind: BusinessNames.Kind, _ n: Int, _ random: inout RandomSource) -> [Int32] {
            (0..<n).map { _ in addAccount(bank: bank(on: rail, &random), business: kind, &random) }
        }
        pool.merchants = business(.shop, max(20, count / 100), &random)
        pool.merchantTypicalAmount = pool.merchants.map { _ in random.logNormal(mu: 3.2, sigma: 0.8) * rail.amountScale }
        pool.utilities = business(.utility, max(4, count / 1500), &random)
        pool.employers = business(.employer, max(10, count / 40), &random)
        // Exchanges keep client money at their own institution where the rail has one, and at a bank otherwise.
        pool.exchanges = (0..<3).map { i in
            let institution = i < 2 ? exchangeInstitution(on: rail) : nil
            return addAccount(bank: institution ?? bank(on: rail, &random), business: .exchange, &random)
        }
        pool.marketplaces = business(.marketplace, 4, &random)
        pool.landlords = (0..<max(20, count / 8)).map { _ in
            random.chance(0.25)
                ? addAccount(bank: bank(on: rail, &random), business: .lettingAgent, &random)
                : addAccount(bank: bank(on: rail, &random), &random)
        }
        pool.occasional = (0..<max(50, count / 3)).map { _ in
            random.chance(0.4)
                ? addAccount(bank: bank(on: rail, &random), business: .tradesperson, &random)
                : addAccount(bank: bank(on: rail, &random), &random)
        }
        pool.cashOut = (0..<6).map { _ in addAccount(bank: fraudBank(on: rail, nonBank: 0.7, &random), &random) }
        pool.carrierIPs = (0..<max(4, count / 150)).map { _ in addIP(NetworkAddresses.ip(region, &random)) }
        pools[rail.rawValue] = pool
    }

    private mutating func addCustomer(bank: Int, startMillis: Int64, _ random: inout RandomSource) {
        let home = Bank.all[bank]
        let rail = home.rail
        let account = addAccount(bank: bank, &random)
        let name = accounts[Int(account)].name
        let savingsBank = random.chance(0.6) ? self.bank(on: rail, &random) : bank
        let savings = addAccount(bank: savingsBank, name: name, &random)
        let second = random.chance(0.25) ? addAccount(bank: bank, name: name, &random) : -1
        let channelRoll = random.uniform()
        let channel: Channel = channelRoll < 0.72 ? .mobile : channelRoll < 0.96 ? .web : .branch
        let hourShift = random.chance(0.85) ? 0 : random.element(of: [-2, -1, 2, 3, 5, 8])
        let device = addDevice(&random)
        let secondDevice: Int32 = random.chance(0.3) ? addDevice(&random) : -1
        let pool = pools[rail.rawValue]
        let homeIP = addIP(NetworkAddresses.ip(home.region, &random))
        var customer = Customer(
            account: account, savings: savings, second: second, bank: bank,
            activity: random.logNormal(mu: 0, sigma: 0.8),
            amountMu: random.double(in: 2.6...4.0) + log(rail.amountScale), amountSigma: random.double(in: 0.6...1.2),
            hourShift: hourShift, preferredChannel: channel, device: device, secondDevice: secondDevice,
            deviceSwitchDay: secondDevice >= 0 && random.chance(0.3) ? random.int(below: 60) : Int.max,
            homeIP: homeIP, mobileIP: random.element(of: pool.carrierIPs), payees: 0..<0, recurring: nil
        )
        if random.chance(0.7) {
            let salary = random.logNormal(mu: 7.6, sigma: 0.45) * rail.amountScale
            customer.recurring = Customer.Recurring(
                salaryDay: random.element(of: [1, 15, 25, 26, 27, 28, 28, 28, 31]),
                employer: random.element(of: pool.employers), salaryMinor: Int64(salary * 100),
                rentDay: random.element(of: [1, 1, 1, 2, 5, 28]), landlord: random.element(of: pool.landlords),
                rentMinor: Int64((salary * random.double(in: 0.25...0.45)).rounded()) * 100,
                billDay: 1 + random.int(below: 28), utility: random.element(of: pool.utilities),
                billMinor: Int64(random.logNormal(mu: 4.2, sigma: 0.4) * rail.amountScale * 100)
            )
        }
        pools[rail.rawValue].customers.append(Int32(customers.count))
        customers.append(customer)
    }

    private mutating func addKnownPayees(customer index: Int, startMillis: Int64, _ random: inout RandomSource) {
        let rail = Bank.all[customers[index].bank].rail
        let pool = pools[rail.rawValue]
        let first = knownPayees.count
        func addedAt(_ random: inout RandomSource) -> Int64 {
            startMillis - Int64(random.double(in: 1...1500) * 86_400_000)
        }
        for _ in 0..<random.int(in: 3...9) {
            // Popularity is heavy-tailed: a few big shops get most customers.
            let m = Int(Double(pool.merchants.count) * pow(random.uniform(), 2.5))
            knownPayees.append(KnownPayee(
                account: pool.merchants[m], addedAtMillis: addedAt(&random),
                typicalAmount: pool.merchantTypicalAmount[m], isBusiness: true
            ))
        }
        for _ in 0..<random.int(in: 2...7) {
            let friend = customers[Int(random.element(of: pool.customers))].account
            guard friend != customers[index].account else { continue }
            knownPayees.append(KnownPayee(account: friend, addedAtMillis: addedAt(&random), typicalAmount: 0, isBusiness: false))
        }
        customers[index].payees = first..<knownPayees.count
    }
}

/// Integer shares of a total that add up exactly.
enum Allocation {
    static func largestRemainder(total: Int, weights: [Double]) -> [Int] {
        let sum = weights.reduce(0, +)
        guard sum > 0, total > 0 else { return weights.map { _ in 0 } }
        let exact = weights.map { Double(total) * $0 / sum }
        var counts = exact.map { Int($0) }
        var left = total - counts.reduce(0, +)
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0]), $1) > (exact[$1] - Double(counts[$1]), $0) }
        var i = 0
        while left > 0 {
            counts[order[i % order.count]] += 1
            left -= 1
            i += 1
        }
        return counts
    }
}
