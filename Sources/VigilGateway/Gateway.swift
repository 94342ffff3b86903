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
            device: request.deviceId.map { keys.token(.device, $0.utf8) },
            ip: request.ip.map { keys.token(.ip, $0.utf8) },
            sealedReference: request.reference.map { keys.seal(.reference, $0.utf8) },
            uetr: request.uetr
        )
    }

    func tokenize(_ party: Party) -> TokenizedParty {
        let account = party.account.canonical
        return TokenizedParty(
            account: keys.token(.account, account.utf8),
            sealedAccount: keys.seal(.account, account.utf8),
            name: party.name.map { keys.token(.name, Self.normalisedName($0)) },
            sealedName: party.name.map { keys.seal(.name, $0.utf8) },
            agent: party.agent?.uppercased(),
            institution: Self.institution(of: party)
        )
    }

    /// The party's bank or branch code: the sort code of a UK account (domestic or GB IBAN), else the first eight
    /// characters of its agent's BIC, else the routing number of a US (`ABA`) scheme account. Institutions are not
    /// people, so the code stays readable past the edge.
    public static func institution(of party: Party) -> InstitutionCode? {
        switch party.account {
        case .ukDomestic(let sortCode, _):
            return InstitutionCode(type: .sortCode, value: sortCode)
        case .iban(let iban) where iban.hasPrefix("GB") && iban.utf8.count == 22:
            return InstitutionCode(type: .sortCode, value: String(decoding: Array(iban.utf8)[8..<14], as: UTF8.self))
        default:
            break
        }
        if let agent = party.agent, agent.utf8.count >= 8 {
            let bic = Array(agent.uppercased().utf8.prefix(8))
            if bic.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }) {
                return InstitutionCode(type: .bic, value: String(decoding: bic, as: UTF8.self))
            }
        }
        if case .scheme(let scheme, let id) = party.account, scheme == "ABA" {
            let bytes = Array(id.utf8)
            if bytes.count >= 9, bytes[..<9].allSatisfy({ (0x30...0x39).contains($0) }), bytes.count == 9 || !(0x30...0x39).contains(bytes[9]) {
                return InstitutionCode(type: .routing, value: String(decoding: bytes[..<9], as: UTF8.self))
            }
        }
        return nil
    }

    /// Case and spacing do not make a different person: the name upper-cased, each run of whitespace one
    /// space, none at either end, in UTF-8. Every stored name token was made from exactly this form.
    static func normalisedName(_ name: String) -> [UInt8] {
        if case let ascii?? = name.utf8.withContiguousStorageIfAvailable(normalisedASCIIName) {
            return ascii
        }
        return Array(name.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").utf8)
    }

    /// `normalisedName` for an all-ASCII name in one pass over its bytes; nil when any byte is not ASCII.
    ///
    /// Within ASCII, upper-casing changes only a–z, and the characters with Unicode's White_Space property
    /// (`Character.isWhitespace`) are tab, line feed, vertical tab, form feed, carriage return and space
    /// ("\r\n" is one `Character`, and whitespace either way).
    static func normalisedASCIIName(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var spaceDue = false
        for byte in bytes {
            switch byte {
            case 0x09...0x0D, 0x20:
                spaceDue = !out.isEmpty
            case 0x00..<0x80:
                if spaceDue {
                    out.append(0x20)
                    spaceDue = false
                }
                out.append(UInt8(ascii: "a") <= byte && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte)
            default:
                return nil
            }
        }
        return out
    }
}
