public import VigilDomain
public import VigilGateway

/// Maps each pacs.008 transaction to the `PaymentRequest` `/v1/payments/score` would decode, with the API's own
/// field rules (`FieldRules`: lengths, IBAN check digits, currency decimals, time bounds). A transaction whose values
/// break a rule gets its `FieldError`s, each pointing at the element.
public struct CreditTransferMapping: Sendable {
    /// The asking side, from the route's `?perspective=` or the tenant's only entitlement.
    public var perspective: Perspective
    /// The scheme from the `Vigil-Scheme` header; when set it wins over the message's payment type.
    public var scheme: String?
    public var bounds: CreatedAtBounds
    /// The server's clock when the message arrived; a creation time more than the skew ahead of it is refused.
    public var receivedAt: Instant?

    public init(perspective: Perspective, scheme: String? = nil, bounds: CreatedAtBounds = .standard, receivedAt: Instant? = nil) {
        self.perspective = perspective
        self.scheme = scheme
        self.bounds = bounds
        self.receivedAt = receivedAt
    }

    /// One result per transaction, in order.
    public func payments(_ transfer: CreditTransfer) -> [Result<PaymentRequest, MappingFailure>] {
        transfer.transactions.map { payment($0, in: transfer) }
    }

    /// The transaction's payment, or every rule its values break.
    public func payment(_ transaction: CreditTransfer.Transaction, in transfer: CreditTransfer) -> Result<PaymentRequest, MappingFailure> {
        var errors: [FieldError] = []
        let at = transaction.pointer
        func check<T>(_ result: Result<T, RowRejection>, _ pointer: String) -> T? {
            switch result {
            case .success(let value): return value
            case .failure(let rejection):
                errors.append(FieldError(pointer: pointer, detail: rejection.reason))
                return nil
            }
        }
        var uetr: String?
        if let text = transaction.uetr {
            uetr = check(FieldRules.uetr(text), at + "/PmtId/UETR")
        }
        let endToEndId = check(FieldRules.paymentId(transaction.endToEndId), at + "/PmtId/EndToEndId")
        let money: Money?
        switch FieldRules.money(amount: transaction.amount, currency: transaction.currency) {
        case .success(let value): money = value
        case .failure(let rejection):
            errors.append(FieldError(pointer: at + "/IntrBkSttlmAmt" + (rejection.column == "currency" ? "/@Ccy" : ""), detail: rejection.reason))
            money = nil
        }
        // The acceptance time is the payment's own; the group header's is when the message was built.
        let timePointer = transaction.acceptedAt != nil ? at + "/AccptncDtTm" : transfer.root + "/GrpHdr/CreDtTm"
        var createdAt = check(FieldRules.instant(transaction.acceptedAt ?? transfer.createdAt), timePointer)
        if let instant = createdAt, let receivedAt, !bounds.accepts(createdAt: instant, receivedAt: receivedAt) {
            errors.append(FieldError(
                pointer: timePointer,
                detail: "Must not be more than \(bounds.skewSeconds) seconds ahead of the server's clock; check the sending system's clock."
            ))
            createdAt = nil
        }
        let scheme = self.scheme.map { check(FieldRules.scheme($0), "/Vigil-Scheme") } ?? Self.scheme(of: transaction)
        if self.scheme == nil, scheme == nil {
            errors.append(FieldError(
                pointer: at + "/PmtTpInf",
                detail: "Names no scheme Vigil knows: send PmtTpInf/LclInstrm (INST with SvcLvl SEPA or an EUR, GBP, BRL or INR amount) or a Prtry naming the scheme, or the Vigil-Scheme header; see docs/iso20022.md."
            ))
        }
        let debtor = party(transaction.debtor, at: at, errors: &errors)
        let creditor = party(transaction.creditor, at: at, errors: &errors)
        let reference = transaction.remittance.flatMap { check(FieldRules.text($0, length: 0...140), at + "/RmtInf/Ustrd") }
        guard errors.isEmpty, let endToEndId, let money, let createdAt, let scheme, let debtor, let creditor else {
            return .failure(MappingFailure(errors: errors))
        }
        return .success(PaymentRequest(
            paymentId: uetr ?? endToEndId, perspective: perspective, type: .push, scheme: scheme, channel: nil, amount: money,
            createdAt: createdAt, debtor: debtor, creditor: creditor, payeeFirstSeenAt: nil, confirmationOfPayee: nil, deviceId: nil,
            ip: nil, reference: reference, uetr: uetr
        ))
    }

    /// A party with its account and agent, checked as the API checks `debtor`/`creditor`.
    func party(_ elements: CreditTransfer.PartyElements, at pointer: String, errors: inout [FieldError]) -> Party? {
        let role = elements.role
        var name: String?
        if let text = elements.name {
            switch FieldRules.text(text, length: 1...140) {
            case .success(let value): name = value
            case .failure(let rejection): errors.append(FieldError(pointer: pointer + "/" + role + "/Nm", detail: rejection.reason))
            }
        }
        var agent: String?
        if let text = elements.agent {
            switch FieldRules.agent(text) {
            case .success(let value): agent = value
            case .failure(let rejection):
                errors.append(FieldError(pointer: pointer + "/" + role + "Agt/FinInstnId/" + (elements.agentElement ?? "BICFI"), detail: rejection.reason))
            }
        }
        let accountPointer = pointer + "/" + role + "Acct/Id"
        let members: [(key: String, value: String)]
        let memberPointer: String
        if let iban = elements.iban {
            members = [("iban", iban)]
            memberPointer = accountPointer + "/IBAN"
        } else if let id = elements.otherId, let scheme = elements.otherScheme, scheme == Self.sortCodeAccountScheme,
                  id.utf8.count == 14, id.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            members = [("sortCode", String(id.prefix(6))), ("accountNumber", String(id.suffix(8)))]
            memberPointer = accountPointer + "/Othr/Id"
        } else {
            members = [("scheme", elements.otherScheme ?? Self.unnamedScheme), ("id", elements.otherId ?? "")]
            memberPointer = accountPointer + "/Othr"
        }
        var account: AccountIdentifier?
        switch FieldRules.account(members, prefix: "account") {
        case .success(let value): account = value
        case .failure(let rejection):
            let member = rejection.column?.split(separator: ".").last.map(String.init)
            let suffix = member == "scheme" ? "/SchmeNm" : member == "id" ? "/Id" : ""
            errors.append(FieldError(pointer: memberPointer + suffix, detail: rejection.reason))
        }
        guard let account else { return nil }
        return Party(name: name, account: account, agent: agent)
    }

    /// `Othr/SchmeNm/Prtry` for a UK sort code and account number written as one 14-digit `Othr/Id`.
    public static let sortCodeAccountScheme = "SCAN"
    /// The account scheme given to an `Othr/Id` without `SchmeNm`.
    public static let unnamedScheme = "OTHR"

    /// Vigil's scheme names, which a `Prtry` (local instrument or service level) may give as they are.
    public static let schemeNames: Set<String> = ["FPS", "SEPA_INST", "FEDNOW", "RTP", "PIX", "UPI", "NPP", "BACS", "CHAPS", "SEPA"]

    /// The scheme a transaction's payment type names (docs/iso20022.md, "Scheme"), or nil.
    public static func scheme(of transaction: CreditTransfer.Transaction) -> String? {
        for proprietary in [transaction.localInstrumentProprietary, transaction.serviceLevelProprietary].compactMap({ $0 }) {
            let upper = proprietary.uppercased()
            if schemeNames.contains(upper) { return upper }
        }
        let instant = transaction.localInstrumentCode?.uppercased() == "INST"
        if transaction.serviceLevelCode?.uppercased() == "SEPA" { return instant ? "SEPA_INST" : "SEPA" }
        guard instant else { return nil }
        switch transaction.currency {
        case "EUR": return "SEPA_INST"
        case "GBP": return "FPS"
        case "BRL": return "PIX"
        case "INR": return "UPI"
        default: return nil
        }
    }
}

/// Why one transaction could not become a payment: every bad element, as `/v1/payments/score` reports bad fields.
public struct MappingFailure: Error, Sendable, Hashable {
    public var errors: [FieldError]

    public init(errors: [FieldError]) {
        self.errors = errors
    }
}
