import VigilDomain
/// Remittance references, some followed by a number (`Invoice 4821`).
enum ReferenceText {
    /// What the reference is for; each purpose has its own templates.
    enum Purpose: Int {
        case friend, shop, bill, rent, salary, savings, tradesperson, investment, safeAccount, purchase, romance, mule
    }

    /// A template: its escaped text and whether a number follows it.
    struct Template {
        var text: [UInt8]
        var numbered: Bool
    }

    private static let byPurpose: [[(String, Bool)]] = [
        [("Dinner", false), ("Thanks!", false), ("Drinks", false), ("Birthday", false), ("Cinema", false),
         ("Holiday", false), ("🍕", false), ("Petrol", false), ("Tickets, thanks", false), ("Loan", false),
         ("Gift", false), ("Football", false), ("Share of bill", false), ("Flat ", true)],
        [("Order ", true), ("INV-", true), ("Customer ref ", true), ("Purchase", false)],
        [("Acct ", true), ("Bill ", true), ("Direct payment", false)],
        [("Rent", false), ("Rent flat ", true), ("RENT", false)],
        [("SALARY", false), ("Payroll ", true), ("Wages", false)],
        [("Savings", false), ("Transfer", false), ("To savings", false)],
        [("Invoice ", true), ("Job ", true), ("Deposit", false), ("Materials", false)],
        [("Investment", false), ("Trading account ", true), ("Deposit", false), ("Portfolio top up", false)],
        [("Transfer", false), ("Safe account", false), ("Security transfer", false), ("Move funds", false)],
        [("Deposit", false), ("Order ", true), ("Item ", true), ("Tickets", false), ("Puppy deposit", false)],
        [("Gift", false), ("Loan", false), ("Flight", false), ("Hospital", false), ("Help", false), ("Love you", false)],
        [("Transfer", false), ("Payment", false), ("Refund", false), ("", true), ("Invoice ", true)],
    ]

    static let templates: [Template] = byPurpose.flatMap { group in
        group.map { Template(text: Array(csvField($0.0).utf8), numbered: $0.1) }
    }

    private static let firstIndex: [Int] = {
        var starts: [Int] = []
        var next = 0
        for group in byPurpose {
            starts.append(next)
            next += group.count
        }
        return starts
    }()

    /// Sets a reference for `purpose` on `event`; none at all for about one payment in six.
    static func choose(_ purpose: Purpose, for event: inout PaymentEvent, _ random: inout RandomSource) {
        if purpose == .friend || purpose == .shop, random.chance(0.17) { return }
        let count = byPurpose[purpose.rawValue].count
        event.reference = Int16(firstIndex[purpose.rawValue] + random.int(below: count))
        event.referenceNumber = Int32(random.int(in: 100...999_999))
    }
}
