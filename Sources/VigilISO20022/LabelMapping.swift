public import VigilDomain
public import VigilFiles
import VigilGateway

/// What one pacs.002 or camt.056 transaction says, in the daily files' plaintext forms.
public enum LabelMappingResult: Sendable, Hashable {
    /// A final status (pacs.002 `ACSC`, `RJCT`, …).
    case status(ParsedStatus)
    /// A fraud report (camt.056 with reason `FRAD`).
    case fraudReport(ParsedFraudReport)
    /// Nothing to record: a status that is not final, or a recall for another reason. `reason` says which, without
    /// values.
    case ignored(reason: String)
    /// Values that break the field rules, each pointing at its element.
    case invalid(MappingFailure)
}

/// pacs.002 statuses and camt.056 recalls as the records the daily status and fraud-reports files carry.
public enum LabelMapping {
    /// `TxSts` codes that are final, and the status each records (docs/iso20022.md). Every other code (`ACTC`,
    /// `ACSP`, `PDNG`, `RCVD`, …) says the payment is still under way and is ignored.
    public static let finalStatuses: [String: PaymentFinalStatus] = [
        "ACSC": .settled, "ACCC": .settled, "ACWC": .settled, "RJCT": .rejected, "CANC": .recalled,
    ]

    /// One result per `TxInfAndSts`, in order.
    public static func statuses(_ report: StatusReport) -> [LabelMappingResult] {
        report.transactions.map { transaction in
            var errors: [FieldError] = []
            let at = transaction.pointer
            let uetr = transaction.originalUETR.flatMap { check(FieldRules.uetr($0), at + "/OrgnlUETR", &errors) }
            let paymentId = transaction.originalEndToEndId.flatMap { check(FieldRules.paymentId($0), at + "/OrgnlEndToEndId", &errors) }
            let time = check(FieldRules.instant(report.createdAt), report.root + "/GrpHdr/CreDtTm", &errors)
            let reason = transaction.reasonCode.flatMap { check(reasonCode($0), at + "/StsRsnInf/Rsn/Cd", &errors) }
            let account = creditorAccount(
                iban: transaction.creditorIBAN, otherId: transaction.creditorOtherId, otherScheme: transaction.creditorOtherScheme,
                at: at + "/OrgnlTxRef/CdtrAcct/Id", errors: &errors
            )
            guard errors.isEmpty, let time else { return .invalid(MappingFailure(errors: errors)) }
            guard let status = finalStatuses[transaction.status.uppercased()] else {
                return .ignored(reason: "TxSts is not a final status.")
            }
            return .status(ParsedStatus(
                paymentId: uetr == nil ? paymentId : nil, uetr: uetr, status: status, reasonCode: reason, at: time, creditorAccount: account
            ))
        }
    }

    /// One result per `Undrlyg/TxInf`, in order: a fraud report for reason `FRAD`, ignored for any other reason (a
    /// recall request is not an outcome; the recall's result comes as a pacs.002 or in the daily status file).
    ///
    /// The report is from the sending side (camt.056 is the debtor agent's request), its fraud type `other` (the
    /// message does not say which kind), reported at `Assgnmt/CreDtTm`, the amount lost `OrgnlIntrBkSttlmAmt`.
    public static func fraudReports(_ request: CancellationRequest) -> [LabelMappingResult] {
        request.transactions.map { transaction in
            var errors: [FieldError] = []
            let at = transaction.pointer
            let uetr = transaction.originalUETR.flatMap { check(FieldRules.uetr($0), at + "/OrgnlUETR", &errors) }
            let paymentId = transaction.originalEndToEndId.flatMap { check(FieldRules.paymentId($0), at + "/OrgnlEndToEndId", &errors) }
            let time = check(FieldRules.instant(request.createdAt), request.root + "/Assgnmt/CreDtTm", &errors)
            var amount: Money?
            if let text = transaction.amount, let currency = transaction.currency {
                switch FieldRules.money(amount: text, currency: currency) {
                case .success(let money): amount = money
                case .failure(let rejection):
                    errors.append(FieldError(
                        pointer: at + "/OrgnlIntrBkSttlmAmt" + (rejection.column == "currency" ? "/@Ccy" : ""), detail: rejection.reason
                    ))
                }
            }
            let account = creditorAccount(
                iban: transaction.creditorIBAN, otherId: transaction.creditorOtherId, otherScheme: transaction.creditorOtherScheme,
                at: at + "/OrgnlTxRef/CdtrAcct/Id", errors: &errors
            )
            guard errors.isEmpty, let time else { return .invalid(MappingFailure(errors: errors)) }
            guard transaction.reasonCode?.uppercased() == CancellationRequest.fraudReason else {
                return .ignored(reason: "The cancellation reason is not FRAD.")
            }
            return .fraudReport(ParsedFraudReport(
                paymentId: uetr == nil ? paymentId : nil, uetr: uetr, reportedAt: time, fraudType: .other, amountLost: amount,
                reportingSide: .sending, creditorAccount: account
            ))
        }
    }

    static func check<T>(_ result: Result<T, RowRejection>, _ pointer: String, _ errors: inout [FieldError]) -> T? {
        switch result {
        case .success(let value): return value
        case .failure(let rejection):
            errors.append(FieldError(pointer: pointer, detail: rejection.reason))
            return nil
        }
    }

    /// An ISO 20022 reason code: four upper-case letters or digits, as the status file's `reasonCode`.
    static func reasonCode(_ text: String) -> Result<String, RowRejection> {
        let utf8 = text.utf8
        guard utf8.count == 4, utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) }) else {
            return .failure(RowRejection(column: nil, "Must be an ISO 20022 reason code: four upper-case letters or digits."))
        }
        return .success(text)
    }

    static func creditorAccount(
        iban: String?, otherId: String?, otherScheme: String?, at pointer: String, errors: inout [FieldError]
    ) -> AccountIdentifier? {
        let members: [(key: String, value: String)]
        if let iban {
            members = [("iban", iban)]
        } else if let otherId {
            if otherScheme == CreditTransferMapping.sortCodeAccountScheme, otherId.utf8.count == 14 {
                members = [("sortCode", String(otherId.prefix(6))), ("accountNumber", String(otherId.suffix(8)))]
            } else {
                members = [("scheme", otherScheme ?? CreditTransferMapping.unnamedScheme), ("id", otherId)]
            }
        } else {
            return nil
        }
        switch FieldRules.account(members, prefix: "account") {
        case .success(let account): return account
        case .failure(let rejection):
            errors.append(FieldError(pointer: pointer + (iban != nil ? "/IBAN" : "/Othr"), detail: rejection.reason))
            return nil
        }
    }
}
