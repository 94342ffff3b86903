/// A pacs.008 FIToFICustomerCreditTransfer as Vigil reads it: the elements the mapping uses, each transaction with
/// its pointer. Decoded from `ISO20022Document`, so XML and JSON give the same value.
public struct CreditTransfer: Sendable, Hashable {
    /// `/Document/FIToFICstmrCdtTrf`, the prefix of every pointer.
    public var root: String
    /// `GrpHdr/CreDtTm`, as written.
    public var createdAt: String
    public var transactions: [Transaction]

    /// Most `CdtTrfTxInf` one message may hold.
    public static let maxTransactions = 100

    /// One `CdtTrfTxInf`.
    public struct Transaction: Sendable, Hashable {
        /// `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[n]`.
        public var pointer: String
        public var endToEndId: String
        public var uetr: String?
        public var amount: String
        public var currency: String
        /// `AccptncDtTm`, as written.
        public var acceptedAt: String?
        /// `PmtTpInf/SvcLvl/Cd` (and `Prtry`), the transaction's or else the group header's.
        public var serviceLevelCode: String?
        public var serviceLevelProprietary: String?
        /// `PmtTpInf/LclInstrm/Cd` and `Prtry`.
        public var localInstrumentCode: String?
        public var localInstrumentProprietary: String?
        public var debtor: PartyElements
        public var creditor: PartyElements
        /// The first `RmtInf/Ustrd`.
        public var remittance: String?
    }

    /// A party (`Dbtr`/`Cdtr`), its account (`DbtrAcct`/`CdtrAcct`) and its agent (`DbtrAgt`/`CdtrAgt`).
    public struct PartyElements: Sendable, Hashable {
        /// `Dbtr` or `Cdtr`, for pointers.
        public var role: String
        public var name: String?
        public var iban: String?
        /// `Acct/Id/Othr/Id` and its scheme: `SchmeNm/Cd`, else `SchmeNm/Prtry`.
        public var otherId: String?
        public var otherScheme: String?
        /// `Agt/FinInstnId/BICFI`, else `Agt/FinInstnId/ClrSysMmbId/MmbId`.
        public var agent: String?
        /// Which of the two the agent came from, for pointers.
        public var agentElement: String?
    }

    /// Reads the transactions of a pacs.008; a missing mandatory element throws with its pointer.
    public init(_ document: ISO20022Document) throws(ISO20022Error) {
        let root = document.root
        self.root = root
        let message = document.message
        let header = try ElementReader.required(message, "GrpHdr", at: root)
        _ = try ElementReader.requiredText(header, "MsgId", at: root + "/GrpHdr")
        createdAt = try ElementReader.requiredText(header, "CreDtTm", at: root + "/GrpHdr")
        let headerType = header.child("PmtTpInf")
        var transactions: [Transaction] = []
        for (element, pointer) in try ElementReader.repeated(message, "CdtTrfTxInf", at: root, limit: Self.maxTransactions) {
            let paymentId = try ElementReader.required(element, "PmtId", at: pointer)
            let endToEndId = try ElementReader.requiredText(paymentId, "EndToEndId", at: pointer + "/PmtId")
            let (amount, currency) = try ElementReader.amount(element, "IntrBkSttlmAmt", at: pointer)
            let type = element.child("PmtTpInf") ?? headerType
            transactions.append(Transaction(
                pointer: pointer, endToEndId: endToEndId, uetr: ElementReader.text(paymentId, "UETR"), amount: amount, currency: currency,
                acceptedAt: ElementReader.text(element, "AccptncDtTm"),
                serviceLevelCode: type.flatMap { ElementReader.text($0, "SvcLvl", "Cd") },
                serviceLevelProprietary: type.flatMap { ElementReader.text($0, "SvcLvl", "Prtry") },
                localInstrumentCode: type.flatMap { ElementReader.text($0, "LclInstrm", "Cd") },
                localInstrumentProprietary: type.flatMap { ElementReader.text($0, "LclInstrm", "Prtry") },
                debtor: try Self.party(element, "Dbtr", at: pointer), creditor: try Self.party(element, "Cdtr", at: pointer),
                remittance: element.child("RmtInf")?.children("Ustrd").first.map(\.text)
            ))
        }
        self.transactions = transactions
    }

    /// `Dbtr`, `DbtrAcct/Id` and `DbtrAgt` (or the `Cdtr` ones). The party and its account are mandatory for Vigil
    /// (the account is what is scored); the agent is read when present.
    static func party(_ transaction: XMLElement, _ role: String, at pointer: String) throws(ISO20022Error) -> PartyElements {
        let party = try ElementReader.required(transaction, role, at: pointer)
        let account = try ElementReader.required(transaction, role + "Acct", at: pointer)
        let id = try ElementReader.required(account, "Id", at: pointer + "/" + role + "Acct")
        let iban = ElementReader.text(id, "IBAN")
        let other = id.child("Othr")
        let otherId = other.flatMap { ElementReader.text($0, "Id") }
        if iban == nil, otherId == nil {
            throw ISO20022Error(
                .missingElement, "The account needs an IBAN or Othr/Id.", pointer: pointer + "/" + role + "Acct/Id/IBAN"
            )
        }
        let institution = transaction.child(role + "Agt")?.child("FinInstnId")
        let bic = institution.flatMap { ElementReader.text($0, "BICFI") }
        let member = institution.flatMap { ElementReader.text($0, "ClrSysMmbId", "MmbId") }
        return PartyElements(
            role: role, name: ElementReader.text(party, "Nm"), iban: iban, otherId: otherId,
            otherScheme: other.flatMap { ElementReader.text($0, "SchmeNm", "Cd") ?? ElementReader.text($0, "SchmeNm", "Prtry") },
            agent: bic ?? member, agentElement: bic != nil ? "BICFI" : member != nil ? "ClrSysMmbId/MmbId" : nil
        )
    }
}
