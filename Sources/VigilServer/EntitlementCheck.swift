public import VigilDomain
public import VigilGateway

/// Whether a payment is inside a tenant's loaded entitlements (issue 13): some entitlement covers the payment's
/// perspective, its scheme and its receive time, and the tenant's own side's code (the debtor when sending, the
/// creditor when receiving) in the entitlement's code type lies in its range. Runs at the edge, on the plaintext
/// request, because an account-number range needs the account number; nothing of it is logged or returned.
public enum EntitlementCheck {
    /// - Returns: whether `entitlements` allow `payment` received at `receivedAt`. A tenant that never loaded
    ///   entitlements is not checked (the caller does not call this); one that loaded an empty file allows nothing.
    public static func allows(_ entitlements: [Entitlement], payment: PaymentRequest, receivedAt: Instant) -> Bool {
        let own = payment.perspective == .sending ? payment.debtor : payment.creditor
        let at = receivedAt.epochMillis
        for entitlement in entitlements {
            guard entitlement.perspectives.contains(payment.perspective),
                entitlement.products?.contains(payment.scheme) ?? true,
                entitlement.validFrom.epochMillis <= at,
                entitlement.validTo.map({ at <= $0.epochMillis }) ?? true,
                let code = code(entitlement.codeType, of: own),
                code.utf8.count == entitlement.from.utf8.count,
                entitlement.from <= code, code <= entitlement.to
            else { continue }
            return true
        }
        return false
    }

    /// The party's code of `type`: a UK sort code (domestic or GB IBAN), its fourteen-digit account (sort code then
    /// account number), the first eight characters of its agent's BIC, or the routing number of a US (`ABA`) account.
    static func code(_ type: EntitlementCodeType, of party: Party) -> String? {
        switch type {
        case .sortCode, .bic, .routing:
            guard let institution = institution(type, of: party) else { return nil }
            return institution
        case .account:
            switch party.account {
            case .ukDomestic(let sortCode, let accountNumber): return sortCode + accountNumber
            case .iban(let iban) where iban.hasPrefix("GB") && iban.utf8.count == 22: return String(decoding: Array(iban.utf8)[8..<22], as: UTF8.self)
            default: return nil
            }
        }
    }

    static func institution(_ type: EntitlementCodeType, of party: Party) -> String? {
        switch type {
        case .sortCode:
            switch party.account {
            case .ukDomestic(let sortCode, _): return sortCode
            case .iban(let iban) where iban.hasPrefix("GB") && iban.utf8.count == 22: return String(decoding: Array(iban.utf8)[8..<14], as: UTF8.self)
            default: return nil
            }
        case .bic:
            guard let agent = party.agent?.uppercased(), agent.utf8.count >= 8 else { return nil }
            return String(agent.prefix(8))
        case .routing:
            var routingParty = party
            routingParty.agent = nil
            guard case .routing? = Gateway.institution(of: routingParty)?.type else { return nil }
            return Gateway.institution(of: routingParty)?.value
        case .account:
            return nil
        }
    }
}
