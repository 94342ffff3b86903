import Foundation
package import VigilDomain
import VigilJSON

/// The API's field rules for the cells of a daily file that are not a payment (fraud reports, statuses, account
/// maps…), so a cell is judged by the same code, and in the same words, as the request field it mirrors.
///
/// Each rule returns the parsed value or the rule it broke (never the cell's value); single-cell rules leave the
/// rejection's column to the caller.
package enum FieldRules {
    /// An RFC 3339 time within what UTC can write, as the API's `createdAt`.
    package static func instant(_ text: String) -> Result<Instant, RowRejection> {
        var reader = FieldReader()
        if let instant = reader.instant([JSONValue.Member(key: "v", value: .string(text))], "v", at: "", required: true) {
            return .success(instant)
        }
        return .failure(RowRejection(column: nil, reader.errors.first?.detail ?? "Must be an RFC 3339 date-time."))
    }

    /// A payment id: 1 to 64 characters, no control characters, as the API's `paymentId`.
    package static func paymentId(_ text: String) -> Result<String, RowRejection> {
        var reader = FieldReader()
        if let id = reader.text([JSONValue.Member(key: "v", value: .string(text))], "v", at: "", required: true, length: 1...64) {
            return .success(id)
        }
        return .failure(RowRejection(column: nil, reader.errors.first?.detail ?? "Must be 1 to 64 characters long."))
    }

    /// Free text of `length` characters without control characters (an institution's name, a customer id).
    package static func text(_ text: String, length: ClosedRange<Int>) -> Result<String, RowRejection> {
        var reader = FieldReader()
        if let value = reader.text([JSONValue.Member(key: "v", value: .string(text))], "v", at: "", required: true, length: length) {
            return .success(value)
        }
        return .failure(RowRejection(column: nil, reader.errors.first?.detail ?? "Must be \(length.lowerBound) to \(length.upperBound) characters long."))
    }

    /// A party's agent (a BIC or clearing id), as the API's `debtor.agent`.
    package static func agent(_ text: String) -> Result<String, RowRejection> {
        var reader = FieldReader()
        let member = [JSONValue.Member(key: "v", value: .string(text))]
        if let agent = reader.text(member, "v", at: "", required: true, length: FieldReader.agentLength, allowed: FieldReader.isAgentByte, rule: FieldReader.agentRule) {
            return .success(agent)
        }
        return .failure(RowRejection(column: nil, reader.errors.first?.detail ?? "Must match \(FieldReader.agentRule)."))
    }

    /// A UETR, lower-cased, as the API's `uetr`.
    package static func uetr(_ text: String) -> Result<String, RowRejection> {
        FieldReader.uuid(text).map { .success($0) }
            ?? .failure(RowRejection(column: nil, "Must be a UUID (the ISO 20022 UETR), such as 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d."))
    }

    /// A scheme name (`FPS`, `SEPA_INST`), as the API's `scheme`.
    package static func scheme(_ text: String) -> Result<String, RowRejection> {
        let utf8 = text.utf8
        guard (2...16).contains(utf8.count) else { return .failure(RowRejection(column: nil, "Must be 2 to 16 characters long.")) }
        guard utf8.allSatisfy({ FieldReader.isUpper($0) || FieldReader.isDigit($0) || $0 == 95 }) else {
            return .failure(RowRejection(column: nil, "Must match upper-case letters, digits and underscores."))
        }
        return .success(text)
    }

    /// An amount in a currency, as the API's `amount` and `currency`; the failure names the column at fault.
    package static func money(amount: String, currency: String) -> Result<Money, RowRejection> {
        var reader = FieldReader()
        let body = [JSONValue.Member(key: "amount", value: .string(amount)), JSONValue.Member(key: "currency", value: .string(currency))]
        if let money = reader.money(body) { return .success(money) }
        let first = reader.errors.first
        return .failure(RowRejection(column: first.map { String($0.pointer.dropFirst()) }, first?.detail ?? "Must be a positive decimal string."))
    }

    /// An account from its cells, keyed as the API's account members (`iban`; `sortCode`, `accountNumber`; `scheme`,
    /// `id`), empty cells left out. nil when every cell is empty. A failure's column is `prefix` + the member at fault
    /// (`creditor.account.iban`), or `prefix` alone when the forms are mixed.
    package static func account(_ members: [(key: String, value: String)], prefix: String) -> Result<AccountIdentifier?, RowRejection> {
        let object = members.filter { !$0.value.isEmpty }.map { JSONValue.Member(key: $0.key, value: .string($0.value)) }
        guard !object.isEmpty else { return .success(nil) }
        var reader = FieldReader()
        let pointer = "/" + prefix.split(separator: ".").joined(separator: "/")
        if let identifier = reader.account(object, at: pointer), reader.errors.isEmpty { return .success(identifier) }
        let first = reader.errors.first
        return .failure(RowRejection(
            column: first.map { String($0.pointer.replacingOccurrences(of: "/", with: ".").dropFirst()) }, first?.detail ?? "Invalid account."
        ))
    }
}
