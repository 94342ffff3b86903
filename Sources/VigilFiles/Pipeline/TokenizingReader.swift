import Dispatch
public import VigilDomain
public import VigilGateway
public import VigilProtection

/// The parse, validate and tokenise stages of one file: the formats' ``DailyFileParser`` over the plaintext, then each
/// valid row through the tenant's gateway, so every record that leaves holds tokens and seals only (the edge, as for
/// scoring requests). Entitlement rows come out one per row; the pipeline merges a file's into one record.
public struct TokenizingReader: IntakeRowReader {
    var parser: DailyFileParser
    let gateway: Gateway
    let tenant: String

    public init(type: DailyFileType, tenant: TenantIntake, history: HistoryReader = HistoryReader()) {
        parser = DailyFileParser(type: type, history: history)
        gateway = Gateway(keys: tenant.keys)
        self.tenant = tenant.name
    }

    public var rowErrors: [RowError] { parser.rowErrors }
    public var accepted: Int { parser.accepted }
    public var rejected: Int { parser.rejected }

    public mutating func feed(_ chunk: ArraySlice<UInt8>, _ record: (Int, IntakeRecord) throws -> Void) throws {
        var rows: [(Int, ParsedRow)] = []
        try parser.feed(chunk) { rows.append(($0, $1)) }
        try emit(rows, record)
    }

    public mutating func finish(_ record: (Int, IntakeRecord) throws -> Void) throws {
        var rows: [(Int, ParsedRow)] = []
        try parser.finish { rows.append(($0, $1)) }
        try emit(rows, record)
    }

    /// Tokenises a chunk's rows, on every core when there are enough of them (sealing is most of a history row's
    /// cost), and hands them on in file order.
    func emit(_ rows: [(Int, ParsedRow)], _ record: (Int, IntakeRecord) throws -> Void) throws {
        let records = Self.tokenize(rows.map(\.1), gateway: gateway, tenant: tenant)
        for (index, tokenized) in records.enumerated() { try record(rows[index].0, tokenized) }
    }

    /// Rows tokenised in pieces of 64 in parallel; each piece writes only its own slots, so the result does not
    /// depend on scheduling.
    static func tokenize(_ rows: [ParsedRow], gateway: Gateway, tenant: String) -> [IntakeRecord] {
        let piece = 64
        guard rows.count > piece else { return rows.map { tokenize($0, gateway: gateway, tenant: tenant) } }
        var out = [IntakeRecord?](repeating: nil, count: rows.count)
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let slots = buffer
            DispatchQueue.concurrentPerform(iterations: (rows.count + piece - 1) / piece) { index in
                for i in (index * piece)..<min(rows.count, (index + 1) * piece) {
                    slots[i] = tokenize(rows[i], gateway: gateway, tenant: tenant)
                }
            }
        }
        return out.map { $0! }
    }

    /// One valid row past the edge.
    static func tokenize(_ row: ParsedRow, gateway: Gateway, tenant: String) -> IntakeRecord {
        let keys = gateway.keys
        switch row {
        case .history(let request):
            return .history(gateway.tokenize(request))
        case .fraudReport(let report):
            return .fraudReport(gateway.tokenize(report))
        case .status(let status):
            return .status(gateway.tokenize(status))
        case .entitlement(let entitlement):
            return .entitlements([entitlement])
        case .directory(let entry):
            return .directory(entry)
        case .accountLink(let link):
            return .accountLink(
                AccountLink(
                    account: gateway.token(link.account), customer: keys.token(.customer, (tenant + ":" + link.customerId).utf8),
                    card: link.card.map { keys.token(.card, $0.utf8) }
                )
            )
        }
    }
}

extension Gateway {
    /// A fraud report past the edge: the creditor account as its token. What a fraud-reports row and a report sent to
    /// `POST /v1/fraud-reports` (or mapped from a camt.056) become.
    public func tokenize(_ report: ParsedFraudReport) -> FraudReport {
        report.report(creditorAccount: report.creditorAccount.map(token))
    }

    /// A final status past the edge: the creditor account as its token. What a status row, or a pacs.002, becomes.
    public func tokenize(_ status: ParsedStatus) -> PaymentStatusReport {
        status.report(creditorAccount: status.creditorAccount.map(token))
    }

    /// An account's token: the same as a payment's party account of that account gets.
    func token(_ account: AccountIdentifier) -> Token {
        keys.token(.account, account.canonical.utf8)
    }
}
