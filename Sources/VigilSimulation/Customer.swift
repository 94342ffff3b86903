/// A simulated bank customer: who they pay, how much, when, and from which device and network.
struct Customer {
    var account: Int32
    /// Their own account at another bank on the same rail, for transfers to themselves.
    var savings: Int32
    /// A second current account at their own bank (a joint or a spending account), -1 when none: the bank's
    /// account-map links it to the customer, and some of their payments (and some scams) go out of it.
    var second: Int32
    var bank: Int
    /// How many payments they make relative to others.
    var activity: Double
    /// Their amounts are log-normal with these parameters, in the rail's currency major units.
    var amountMu: Double
    var amountSigma: Double
    /// Hours added to the population's daily rhythm (night owls, shift workers).
    var hourShift: Int
    var preferredChannel: Channel
    var device: Int32
    /// A second device (a tablet, or the new phone they switch to on `deviceSwitchDay`); -1 when none.
    var secondDevice: Int32
    var deviceSwitchDay: Int
    var homeIP: Int32
    var mobileIP: Int32
    /// Their regular payees: `world.knownPayees[payees]`.
    var payees: Range<Int>
    /// Standing orders and salary, when the customer has them.
    var recurring: Recurring?

    /// A customer's monthly payments in and out.
    struct Recurring {
        var salaryDay: Int
        var employer: Int32
        var salaryMinor: Int64
        var rentDay: Int
        var landlord: Int32
        var rentMinor: Int64
        var billDay: Int
        var utility: Int32
        var billMinor: Int64
    }
}

/// A payee the customer has paid before the simulated period: merchant, utility, friend or family.
struct KnownPayee {
    var account: Int32
    /// When the customer's bank first saw the payee on this customer's list.
    var addedAtMillis: Int64
    /// Typical amount for this payee in major units; 0 to use the customer's own amounts.
    var typicalAmount: Double
    var isBusiness: Bool
}

/// How the payment was initiated, as written in the `channel` column.
enum Channel: UInt8 {
    case mobile, web, branch, api

    var text: String {
        switch self {
        case .mobile: "mobile"
        case .web: "web"
        case .branch: "branch"
        case .api: "api"
        }
    }
}
