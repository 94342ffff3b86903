public import VigilDomain
public import VigilProtection

/// The PII boundary: plaintext in, tokens and ciphertext out.
public struct Gateway: Sendable {
    public let keys: KeyRing

    public init(keys: KeyRing) {
        self.keys = keys
    }

    /// Replaces every personal value with a keyed token (and, where it must stay recoverable, a seal).
    public func tokenize(_ request: PaymentRequest) -> TokenizedPayment {
        TokenizedPayment(
            paymentId: request.paymentId,
            perspective: request.perspective,
            type: request.type,
            scheme: request.scheme,
            channel: request.channel,
            amount: request.amount,
            createdAt: request.createdAt,
            debtor: tokenize(request.debtor),
            creditor: tokenize(request.creditor),
            payeeFirstSeenAt: request.payeeFirstSeenAt,
            confirmationOfPayee: request.confirmationOfPayee,
            device: request.deviceId.map { keys.token(.device, Array($0.utf8)) },
            ip: request.ip.map { keys.token(.ip, Array($0.utf8)) },
            sealedReference: request.reference.map { keys.seal(.reference, Array($0.utf8)) }
        )
    }

    func tokenize(_ party: Party) -> TokenizedParty {
        let account = Array(party.account.canonical.utf8)
        let name = party.name.map { Array(Self.normaliseName($0).utf8) }
        return TokenizedParty(
            account: keys.token(.account, account),
            sealedAccount: keys.seal(.account, account),
            name: name.map { keys.token(.name, $0) },
            sealedName: party.name.map { keys.seal(.name, Array($0.utf8)) },
            agent: party.agent?.uppercased()
        )
    }

    /// Case and spacing do not make a different person.
    static func normaliseName(_ name: String) -> String {
        name.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
