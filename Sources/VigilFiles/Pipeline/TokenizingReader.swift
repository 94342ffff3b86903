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
        let (gateway, tenant) = (gateway, tenant)
        try parser.feed(chunk) { row, parsed in try record(row, Self.tokenize(parsed, gateway: gateway, tenant: tenant)) }
    }

    public mutating func finish(_ record: (Int, IntakeRecord) throws -> Void) throws {
        let (gateway, tenant) = (gateway, tenant)
        try parser.finish { row, parsed in try record(row, Self.tokenize(parsed, gateway: gateway, tenant: tenant)) }
    }

    /// One valid row past the edge.
    static func tokenize(_ row: ParsedRow, gateway: Gateway, tenant: String) -> IntakeRecord {
        let keys = gateway.keys
        func account(_ identifier: AccountIdentifier) -> Token { keys.token(.account, identifier.canonical.utf8) }
        switch row {
        case .history(let request):
            return .history(gateway.tokenize(request))
        case .fraudReport(let report):
            return .fraudReport(report.report(creditorAccount: report.creditorAccount.map(account)))
        case .status(let status):
            return .status(status.report(creditorAccount: status.creditorAccount.map(account)))
        case .entitlement(let entitlement):
            return .entitlements([entitlement])
        case .directory(let entry):
            return .directory(entry)
        case .accountLink(let link):
            return .accountLink(
                AccountLink(
                    account: account(link.account), customer: keys.token(.customer, (tenant + ":" + link.customerId).utf8),
                    card: link.card.map { keys.token(.card, $0.utf8) }
                )
            )
        }
    }
}
