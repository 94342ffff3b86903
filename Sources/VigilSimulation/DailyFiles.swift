import Foundation
public import VigilDomain

/// The daily files the simulated institutions send Vigil (docs/data-formats.md, issue 13): per tenant its fraud
/// reports, the final statuses of the payments it scored, its entitlements and its customers' accounts; and once, as a
/// scheme publishes it, the directory of every sort code, BIC and routing number the simulation uses.
///
/// Every file is UTF-8 without a byte-order mark, LF line endings, RFC 4180 quoting, a header row, and every row valid.
struct DailyFiles {
    static let fraudReportsHeader = "paymentId,uetr,reportedAt,fraudType,amountLost,currency,reportingSide,"
        + "creditor.account.iban,creditor.account.sortCode,creditor.account.accountNumber,creditor.account.scheme,"
        + "creditor.account.id"
    static let statusHeader = "paymentId,uetr,status,reasonCode,at,"
        + "creditor.account.iban,creditor.account.sortCode,creditor.account.accountNumber,creditor.account.scheme,"
        + "creditor.account.id"
    static let entitlementsHeader = "codeType,from,to,perspectives,products,validFrom,validTo"
    static let directoryHeader = "codeType,code,institution,institutionType,status"
    static let accountMapHeader = "customerId,account.iban,account.sortCode,account.accountNumber,account.scheme,"
        + "account.id,card"

    /// ISO 20022 status reason codes the outcomes use; `FRAD` first.
    static let reasonCodes = ["FRAD", "AC01", "AC04", "AC06", "AB05", "AM02", "MS03", "AM05", "CUST", "FOCR", "DUPL", "TECH"]
    private static let hour: Int64 = 3_600_000
    private static let day: Int64 = 86_400_000

    /// What finally became of one payment, kept for the status file of the bank that scored it.
    struct Outcome {
        var atMillis: Int64
        var sequence: UInt32
        var debtorBank: UInt8
        var status: PaymentFinalStatus
        /// An index into `reasonCodes`, or -1 for none.
        var reason: Int8
        var creditor: Int32
        var scheme: PaymentScheme
    }

    private let world: World
    private let labels: [Label]
    /// Labelled payments that came back for fraud (`FRAD`), by sequence: the status file says so after the report.
    private var fraudReturns: [UInt32: Outcome] = [:]
    private var labelled: Set<UInt32> = []
    /// Outcomes by the bank that scored the payment.
    private var outcomes: [[Outcome]]
    private var random: RandomSource

    init(world: World, labels: [Label], random: RandomSource) {
        self.world = world
        self.labels = labels
        self.random = random
        outcomes = Array(repeating: [], count: Bank.all.count)
        for label in labels {
            labelled.insert(label.sequence)
            // A share of reported frauds is caught in time: the payer's bank recalls the payment, or the payee's bank
            // returns it, with the fraud reason. First-party disputes are the customer's own payments: never.
            let share: Double = switch label.type {
            case .accountTakeover: 0.45
            case .mule: label.side == .receiving ? 0.35 : 0.1
            case .firstParty: 0
            default: 0.3
            }
            guard self.random.chance(share) else { continue }
            let at = label.reportedAtMillis + Int64(self.random.double(in: 1...72) * Double(DailyFiles.hour))
            fraudReturns[label.sequence] = Outcome(
                atMillis: at, sequence: label.sequence, debtorBank: UInt8(label.debtorBank),
                status: label.side == .sending ? .recalled : .returned, reason: 0, creditor: label.creditor,
                scheme: label.scheme
            )
        }
    }

    /// Records the final status of a written payment, in the order the history writes them.
    mutating func settle(_ event: PaymentEvent) {
        let debtorBank = world.accounts[Int(event.debtor)].bank
        let asking = event.perspective == .sending ? debtorBank : world.accounts[Int(event.creditor)].bank
        var outcome = Outcome(
            atMillis: event.millis + Int64(random.double(in: 0.3...8) * 1000), sequence: event.sequence,
            debtorBank: UInt8(debtorBank), status: .settled, reason: -1, creditor: event.creditor, scheme: event.scheme
        )
        if let fraud = fraudReturns[event.sequence] {
            outcome = fraud
        } else if !labelled.contains(event.sequence) {
            // A reported fraud went through (the money moved); everything else sometimes fails or comes back.
            let roll = random.uniform()
            if roll < 0.012 {
                outcome.status = .rejected
                outcome.reason = Int8(1 + random.weighted([0.2, 0.25, 0.1, 0.2, 0.1, 0.15]))
                outcome.atMillis = event.millis + Int64(random.double(in: 0.2...5) * 1000)
            } else if roll < 0.015 {
                outcome.status = .returned
                outcome.reason = Int8([2, 7, 8, 9][random.weighted([0.3, 0.2, 0.3, 0.2])])
                outcome.atMillis = event.millis + Int64(random.double(in: 1...120) * Double(DailyFiles.hour))
            } else if roll < 0.016 {
                outcome.status = .recalled
                outcome.reason = Int8([10, 11, 8][random.weighted([0.5, 0.2, 0.3])])
                outcome.atMillis = event.millis + Int64(random.double(in: 2...72) * Double(DailyFiles.hour))
            }
        }
        outcomes[asking].append(outcome)
    }

    /// Writes every file under `directory` (created when missing): `TENANT/TYPE.DATE.csv` and `directory.DATE.csv`.
    /// - Returns: how many files, and rows by file type.
    func write(to directory: String, format: HistoryFormat, timeline: Timeline) throws(SimulationError) -> DailyFilesSummary {
        var latest = timeline.endMillis - 1
        for bank in outcomes { for outcome in bank { latest = max(latest, outcome.atMillis) } }
        for label in labels { latest = max(latest, label.reportedAtMillis) }
        let (year, month, day) = CivilDate.civil(epochDay: Int(Timeline.floorDiv(latest, Timeline.dayMillis)))
        let date = String(year) + "-" + (month < 10 ? "0" : "") + String(month) + "-" + (day < 10 ? "0" : "") + String(day)
        var summary = DailyFilesSummary(date: date)
        try DailyFiles.makeDirectory(directory)
        let reportsByBank = Dictionary(grouping: labels) { label in
            label.side == .sending ? label.debtorBank : world.accounts[Int(label.creditor)].bank
        }
        var lossRandom = random
        for (bank, institution) in Bank.all.enumerated() {
            let folder = directory + "/" + institution.tenant
            try DailyFiles.makeDirectory(folder)
            summary.add(.fraudReports, try writeFile(folder, .fraudReports, date) { file in
                writeFraudReports(reportsByBank[bank] ?? [], format: format, &lossRandom, to: file)
            })
            summary.add(.status, try writeFile(folder, .status, date) { file in
                writeStatuses(bank: bank, format: format, to: file)
            })
            summary.add(.entitlements, try writeFile(folder, .entitlements, date) { file in
                writeEntitlements(bank: bank, format: format, timeline: timeline, to: file)
            })
            summary.add(.accountMap, try writeFile(folder, .accountMap, date) { file in
                writeAccountMap(bank: bank, to: file)
            })
        }
        summary.add(.directory, try writeFile(directory, .directory, date) { file in writeDirectory(to: file) })
        return summary
    }

    private static func makeDirectory(_ path: String) throws(SimulationError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SimulationError(code: .cannotWrite, message: "cannot create directory \(path)")
        }
    }

    /// Creates `folder/TYPE.DATE.csv`, lets `rows` write it, and returns the rows written. A file without rows is
    /// removed again: intake refuses a header-only file, and a bank with nothing to say sends nothing.
    private func writeFile(
        _ folder: String, _ type: DailyFileType, _ date: String, _ rows: (OutputFile) -> Int
    ) throws(SimulationError) -> Int? {
        let path = folder + "/" + type.rawValue + "." + date + ".csv"
        let file = try OutputFile(path: path)
        let count = rows(file)
        try file.close()
        guard count == 0 else { return count }
        try? FileManager.default.removeItem(atPath: path)
        return nil
    }

    // MARK: Files

    private func writeFraudReports(_ reports: [Label], format: HistoryFormat, _ random: inout RandomSource, to file: OutputFile) -> Int {
        file.append(DailyFiles.fraudReportsHeader + "\n")
        for label in reports {
            format.writePaymentId(bank: label.debtorBank, sequence: label.sequence, to: file)
            file.append(byte: 44)
            if HistoryFormat.hasUETR(label.scheme) { format.writeUETR(sequence: label.sequence, to: file) }
            file.append(byte: 44)
            format.writeTimestamp(label.reportedAtMillis, offsetSeconds: 0, utc: true, millis: false, to: file)
            file.append("," + label.type.rawValue + ",")
            // The payer's bank knows what its customer lost (and sometimes leaves it out); the payee's bank does not,
            // and nobody loses on a first-party dispute.
            if label.side == .sending, label.type != .firstParty, label.type != .mule, random.chance(0.9) {
                file.append(number: label.amountMinor / 100)
                file.append(byte: 46)
                file.append(digits: Int(label.amountMinor % 100), width: 2)
                file.append("," + Bank.all[label.debtorBank].rail.currency)
            } else {
                file.append(byte: 44)
            }
            file.append(label.side == .sending ? ",sending," : ",receiving,")
            appendAccount(world.accounts[Int(label.creditor)].identifier, to: file)
            file.append(byte: 10)
        }
        return reports.count
    }

    private func writeStatuses(bank: Int, format: HistoryFormat, to file: OutputFile) -> Int {
        file.append(DailyFiles.statusHeader + "\n")
        let sorted = outcomes[bank].sorted { ($0.atMillis, $0.sequence) < ($1.atMillis, $1.sequence) }
        for outcome in sorted {
            format.writePaymentId(bank: Int(outcome.debtorBank), sequence: outcome.sequence, to: file)
            file.append(byte: 44)
            if HistoryFormat.hasUETR(outcome.scheme) { format.writeUETR(sequence: outcome.sequence, to: file) }
            file.append("," + outcome.status.rawValue + ",")
            if outcome.reason >= 0 { file.append(DailyFiles.reasonCodes[Int(outcome.reason)]) }
            file.append(byte: 44)
            format.writeTimestamp(outcome.atMillis, offsetSeconds: 0, utc: true, millis: true, to: file)
            file.append(byte: 44)
            // A return or recall names the account the money came back from.
            if outcome.status == .returned || outcome.status == .recalled {
                appendAccount(world.accounts[Int(outcome.creditor)].identifier, to: file)
            } else {
                file.append(",,,,")
            }
            file.append(byte: 10)
        }
        return sorted.count
    }

    private func writeEntitlements(bank: Int, format: HistoryFormat, timeline: Timeline, to file: OutputFile) -> Int {
        file.append(DailyFiles.entitlementsHeader + "\n")
        let institution = Bank.all[bank]
        let products: String = switch institution.rail {
        case .fasterPayments: "FPS"
        case .sepaInstant: "SEPA_INST"
        case .pix: "PIX"
        case .upi: "UPI"
        case .unitedStates: "FEDNOW;RTP"
        }
        var ranges: [(type: String, from: String, to: String)] = []
        if case .ukDomestic(let prefix, _) = institution.accountForm {
            let width = 6 - prefix.count
            ranges.append(("sortCode", prefix + String(repeating: "0", count: width), prefix + String(repeating: "9", count: width)))
        }
        ranges.append(("bic", institution.bic, institution.bic))
        for routing in institution.routings { ranges.append(("routing", routing, routing)) }
        // The contract began a year before the simulated period and runs on.
        let validFrom = timeline.startMillis - 365 * DailyFiles.day
        for range in ranges {
            file.append(range.type + "," + range.from + "," + range.to + ",sending;receiving," + products + ",")
            format.writeTimestamp(validFrom, offsetSeconds: 0, utc: true, millis: false, to: file)
            file.append(",\n")
        }
        return ranges.count
    }

    private func writeAccountMap(bank: Int, to file: OutputFile) -> Int {
        file.append(DailyFiles.accountMapHeader + "\n")
        // The bank's own stream, so one bank's cards do not depend on another's customers.
        var cards = random.derived(UInt64(100 + bank))
        var rows = 0
        var number = 0
        for customer in world.customers where customer.bank == bank {
            // Customer numbers are the bank's own: a permutation of its counter, unique within the bank.
            let id = 100_000_000 + (number * 7919 + bank * 104_729) % 900_000_000
            number += 1
            for (account, cardShare) in [(customer.account, 0.7), (customer.second, 0.4), (customer.savings, 0.0)]
            where account >= 0 && world.accounts[Int(account)].bank == bank {
                file.append("C" + String(id) + ",")
                appendAccount(world.accounts[Int(account)].identifier, to: file)
                file.append(byte: 44)
                if cards.chance(cardShare) { file.append(CardNumber.make(bank: bank, &cards)) }
                file.append(byte: 10)
                rows += 1
            }
        }
        return rows
    }

    private func writeDirectory(to file: OutputFile) -> Int {
        file.append(DailyFiles.directoryHeader + "\n")
        var sortCodes: [Int: Set<String>] = [:]
        for account in world.accounts where !account.identifier.sortCode.isEmpty {
            sortCodes[account.bank, default: []].insert(account.identifier.sortCode)
        }
        var rows = 0
        func row(_ type: String, _ code: String, _ institution: Bank, status: InstitutionStatus = .active) {
            file.append(type + "," + code + "," + csvField(institution.institution) + ",")
            file.append(institution.institutionType.rawValue + "," + status.rawValue + "\n")
            rows += 1
        }
        for institution in Bank.all { row("bic", institution.bic, institution) }
        for (bank, institution) in Bank.all.enumerated() {
            guard case .ukDomestic(let prefix, _) = institution.accountForm else { continue }
            let used = sortCodes[bank, default: []]
            for code in used.sorted() { row("sortCode", code, institution) }
            // Branches that closed before the period: in the directory, never on a payment.
            if prefix.count < 6, let closed = (0..<100).lazy.map({ prefix + DailyFiles.padded($0, to: 6 - prefix.count) })
                .first(where: { !used.contains($0) }) {
                row("sortCode", closed, institution, status: .closed)
            }
        }
        for institution in Bank.all {
            for routing in institution.routings { row("routing", routing, institution) }
        }
        return rows
    }

    private static func padded(_ value: Int, to width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// The five account columns, spelt as the account is usually written: sort code and account number for UK
    /// accounts, otherwise the IBAN or the scheme and id. No trailing comma.
    private func appendAccount(_ identifier: AccountIdentifierText, to file: OutputFile) {
        if !identifier.sortCode.isEmpty {
            file.append("," + identifier.sortCode + "," + identifier.accountNumber + ",,")
        } else if !identifier.iban.isEmpty {
            file.append(identifier.iban + ",,,,")
        } else {
            file.append(",,," + identifier.scheme + "," + csvField(identifier.id))
        }
    }
}

/// Card numbers for the account-map file: 16 digits under an invented per-bank BIN, with a Luhn check digit.
enum CardNumber {
    static func make(bank: Int, _ random: inout RandomSource) -> String {
        let bin = "49" + String(1000 + bank * 97)
        let body = bin + Digits.random(15 - bin.count, &random)
        return body + String(luhnCheckDigit(body))
    }

    /// The digit that makes `digits` plus it pass the Luhn check.
    static func luhnCheckDigit(_ digits: String) -> Int {
        var sum = 0
        for (i, byte) in digits.utf8.reversed().enumerated() {
            var d = Int(byte) - 48
            if i % 2 == 0 {
                d *= 2
                if d > 9 { d -= 9 }
            }
            sum += d
        }
        return (10 - sum % 10) % 10
    }
}

/// What `simulate` wrote besides the history: the daily files of the simulated institutions.
public struct DailyFilesSummary: Sendable, Hashable, CustomStringConvertible {
    /// The date in every file's name (`TYPE.DATE.csv`): the day of the latest record in any of them.
    public var date: String
    /// Files written.
    public var files = 0
    /// Rows (not counting headers) by file type, over every tenant.
    public var rows: [DailyFileType: Int] = [:]

    public init(date: String) { self.date = date }

    mutating func add(_ type: DailyFileType, _ count: Int?) {
        guard let count else { return }
        files += 1
        rows[type, default: 0] += count
    }

    /// One line: files, date and rows by type.
    public var description: String {
        let types = DailyFileType.allCases.filter { rows[$0] != nil }.map { "\($0.rawValue) \(rows[$0]!)" }
        return "\(files) daily files dated \(date) (rows: \(types.joined(separator: ", ")))"
    }
}
