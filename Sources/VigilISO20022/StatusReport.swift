/// A pacs.002 FIToFIPaymentStatusReport as Vigil reads it: one entry per `TxInfAndSts`.
public struct StatusReport: Sendable, Hashable {
    public var root: String
    /// `GrpHdr/CreDtTm`, as written: when the status was reported.
    public var createdAt: String
    public var transactions: [Transaction]

    /// Most `TxInfAndSts` one message may hold.
    public static let maxTransactions = 1000

    public struct Transaction: Sendable, Hashable {
        /// `/Document/FIToFIPmtStsRpt/TxInfAndSts[n]`.
        public var pointer: String
        public var originalUETR: String?
        public var originalEndToEndId: String?
        /// `TxSts`.
        public var status: String
        /// `StsRsnInf/Rsn/Cd`.
        public var reasonCode: String?
        /// `OrgnlTxRef/CdtrAcct/Id`: IBAN, or `Othr/Id` with its scheme.
        public var creditorIBAN: String?
        public var creditorOtherId: String?
        public var creditorOtherScheme: String?
    }

    public init(_ document: ISO20022Document) throws(ISO20022Error) {
        root = document.root
        let header = try ElementReader.required(document.message, "GrpHdr", at: root)
        _ = try ElementReader.requiredText(header, "MsgId", at: root + "/GrpHdr")
        createdAt = try ElementReader.requiredText(header, "CreDtTm", at: root + "/GrpHdr")
        var transactions: [Transaction] = []
        for (element, pointer) in try ElementReader.repeated(document.message, "TxInfAndSts", at: root, limit: Self.maxTransactions) {
            let original = try OriginalTransaction(element, at: pointer)
            let status = try ElementReader.requiredText(element, "TxSts", at: pointer)
            transactions.append(Transaction(
                pointer: pointer, originalUETR: original.uetr, originalEndToEndId: original.endToEndId, status: status,
                reasonCode: element.child("StsRsnInf").flatMap { ElementReader.text($0, "Rsn", "Cd") },
                creditorIBAN: original.creditorIBAN, creditorOtherId: original.creditorOtherId,
                creditorOtherScheme: original.creditorOtherScheme
            ))
        }
        self.transactions = transactions
    }
}

/// A camt.056 FIToFIPaymentCancellationRequest as Vigil reads it: one entry per `Undrlyg/TxInf`.
public struct CancellationRequest: Sendable, Hashable {
    public var root: String
    /// `Assgnmt/CreDtTm`, as written: when the recall was requested.
    public var createdAt: String
    public var transactions: [Transaction]

    /// Most `Undrlyg/TxInf` one message may hold.
    public static let maxTransactions = 1000
    /// The cancellation reason that makes a recall a fraud report.
    public static let fraudReason = "FRAD"

    public struct Transaction: Sendable, Hashable {
        /// `/Document/FIToFIPmtCxlReq/Undrlyg[n]/TxInf[m]`.
        public var pointer: String
        public var originalUETR: String?
        public var originalEndToEndId: String?
        /// `CxlRsnInf/Rsn/Cd`, else `CxlRsnInf/Rsn/Prtry`.
        public var reasonCode: String?
        /// `OrgnlIntrBkSttlmAmt` and its `Ccy`.
        public var amount: String?
        public var currency: String?
        public var creditorIBAN: String?
        public var creditorOtherId: String?
        public var creditorOtherScheme: String?
    }

    public init(_ document: ISO20022Document) throws(ISO20022Error) {
        root = document.root
        let assignment = try ElementReader.required(document.message, "Assgnmt", at: root)
        _ = try ElementReader.requiredText(assignment, "Id", at: root + "/Assgnmt")
        createdAt = try ElementReader.requiredText(assignment, "CreDtTm", at: root + "/Assgnmt")
        var transactions: [Transaction] = []
        for (underlying, underlyingPointer) in try ElementReader.repeated(document.message, "Undrlyg", at: root, limit: Self.maxTransactions) {
            for (element, pointer) in try ElementReader.repeated(underlying, "TxInf", at: underlyingPointer, limit: Self.maxTransactions) {
                let original = try OriginalTransaction(element, at: pointer)
                let reason = try ElementReader.required(element, "CxlRsnInf", at: pointer)
                let amount = element.child("OrgnlIntrBkSttlmAmt")
                if let amount, amount.attribute("Ccy") == nil {
                    throw ISO20022Error(.missingElement, "The amount's currency (attribute Ccy) is missing.", pointer: pointer + "/OrgnlIntrBkSttlmAmt/@Ccy")
                }
                transactions.append(Transaction(
                    pointer: pointer, originalUETR: original.uetr, originalEndToEndId: original.endToEndId,
                    reasonCode: ElementReader.text(reason, "Rsn", "Cd") ?? ElementReader.text(reason, "Rsn", "Prtry"),
                    amount: amount?.text, currency: amount?.attribute("Ccy"),
                    creditorIBAN: original.creditorIBAN, creditorOtherId: original.creditorOtherId,
                    creditorOtherScheme: original.creditorOtherScheme
                ))
            }
        }
        self.transactions = transactions
    }
}

/// What a pacs.002 `TxInfAndSts` and a camt.056 `TxInf` both say about the payment they concern: its UETR or
/// end-to-end id (at least one), and the creditor account of `OrgnlTxRef/CdtrAcct/Id` when given.
struct OriginalTransaction {
    var uetr: String?
    var endToEndId: String?
    var creditorIBAN: String?
    var creditorOtherId: String?
    var creditorOtherScheme: String?

    init(_ element: XMLElement, at pointer: String) throws(ISO20022Error) {
        uetr = ElementReader.text(element, "OrgnlUETR")
        endToEndId = ElementReader.text(element, "OrgnlEndToEndId")
        guard uetr != nil || endToEndId != nil else {
            throw ISO20022Error(.missingElement, "The transaction needs OrgnlUETR or OrgnlEndToEndId.", pointer: pointer + "/OrgnlUETR")
        }
        let account = element.child("OrgnlTxRef")?.child("CdtrAcct")?.child("Id")
        creditorIBAN = account.flatMap { ElementReader.text($0, "IBAN") }
        creditorOtherId = account.flatMap { ElementReader.text($0, "Othr", "Id") }
        creditorOtherScheme = account.flatMap { ElementReader.text($0, "Othr", "SchmeNm", "Cd") ?? ElementReader.text($0, "Othr", "SchmeNm", "Prtry") }
    }
}
