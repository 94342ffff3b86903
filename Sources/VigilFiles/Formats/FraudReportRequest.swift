import VigilDomain
public import VigilGateway
import VigilJSON

/// The body of `POST /v1/fraud-reports` (docs/labels.md): one report object, or `{"reports":[…]}` with 1 to
/// ``maxReports`` of them. A report is the same record as a row of a daily fraud-reports file, and is judged by the
/// same row rules (``DailyFileRows/fraudReport(_:)``, which call the API's ``FieldRules``): its members are laid out
/// as the file's cells, so the route and the file accept the same values and say the same about the rest.
///
/// Every report is checked; one bad report refuses the batch. Errors point into the body
/// (`/reports/3/reportedAt`) and never repeat a submitted value.
public enum FraudReportRequest {
    /// The most reports one request may carry.
    public static var maxReports: Int { 1000 }
    /// The largest body accepted: room for ``maxReports`` reports that each name a creditor account.
    public static var maxBodyBytes: Int { 1 << 20 }

    static let reportFields = ["amountLost", "creditorAccount", "fraudType", "paymentId", "reportedAt", "reportingSide", "uetr"]
    static let moneyFields = ["amount", "currency"]
    static let accountFields = ["accountNumber", "iban", "id", "scheme", "sortCode"]

    public static func decode(_ body: [UInt8]) -> Result<[ParsedFraudReport], RequestRejection> {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(body)
        } catch {
            return .failure(.malformedJSON("The body is not valid JSON: \(error.code) at byte \(error.byteOffset)."))
        }
        guard case .object(let object) = parsed else {
            return .failure(.malformedJSON("The body must be a JSON object: one report, or {\"reports\": [...]}."))
        }
        var errors: [FieldError] = []
        var reports: [ParsedFraudReport] = []
        if object.contains(where: { $0.key == "reports" }) {
            for member in object where member.key != "reports" {
                errors.append(FieldError(pointer: "/" + escape(member.key), detail: "Unknown field; a batch holds only reports."))
            }
            guard case .array(let items)? = object.first(where: { $0.key == "reports" })?.value else {
                return .failure(.invalid(errors + [FieldError(pointer: "/reports", detail: "Must be an array of report objects.")]))
            }
            guard (1...maxReports).contains(items.count) else {
                return .failure(.invalid(errors + [FieldError(pointer: "/reports", detail: "Must hold 1 to \(maxReports) reports.")]))
            }
            for (index, item) in items.enumerated() {
                guard case .object(let report) = item else {
                    errors.append(FieldError(pointer: "/reports/\(index)", detail: "Must be an object."))
                    continue
                }
                if let parsed = Self.report(report, at: "/reports/\(index)", errors: &errors) { reports.append(parsed) }
            }
        } else if let parsed = Self.report(object, at: "", errors: &errors) {
            reports.append(parsed)
        }
        return errors.isEmpty ? .success(reports) : .failure(.invalid(errors))
    }

    /// One report object at `pointer`: its members as the file's cells, then the file's row rules.
    static func report(_ object: [JSONValue.Member], at pointer: String, errors: inout [FieldError]) -> ParsedFraudReport? {
        let before = errors.count
        var cells: [String: String] = [:]
        func text(_ value: JSONValue, _ column: String, at path: String) {
            switch value {
            case .null: break
            case .string(let string) where string.isEmpty: errors.append(FieldError(pointer: path, detail: "Must not be empty."))
            case .string(let string): cells[column] = string
            default: errors.append(FieldError(pointer: path, detail: "Must be a string."))
            }
        }
        func members(_ value: JSONValue, allowed: [String], at path: String, _ each: (String, JSONValue) -> Void) {
            switch value {
            case .null: break
            case .object(let inner):
                for member in inner {
                    if allowed.contains(member.key) {
                        each(member.key, member.value)
                    } else {
                        errors.append(FieldError(
                            pointer: path + "/" + escape(member.key), detail: "Unknown field; allowed fields are \(allowed.joined(separator: ", "))."
                        ))
                    }
                }
            default: errors.append(FieldError(pointer: path, detail: "Must be an object."))
            }
        }
        for member in object {
            let path = pointer + "/" + escape(member.key)
            switch member.key {
            case "amountLost":
                members(member.value, allowed: moneyFields, at: path) { key, value in
                    text(value, key == "amount" ? "amountLost" : "currency", at: path + "/" + key)
                }
                if Self.isEmptyObject(member.value) { errors.append(FieldError(pointer: path, detail: "Must hold amount and currency.")) }
            case "creditorAccount":
                members(member.value, allowed: accountFields, at: path) { key, value in
                    text(value, "creditor.account." + key, at: path + "/" + key)
                }
                if Self.isEmptyObject(member.value) {
                    errors.append(FieldError(pointer: path, detail: "Must hold exactly one of: iban; sortCode and accountNumber; scheme and id."))
                }
            case let key where reportFields.contains(key):
                text(member.value, key, at: path)
            default:
                errors.append(FieldError(pointer: path, detail: "Unknown field; allowed fields are \(reportFields.joined(separator: ", "))."))
            }
        }
        if cells["paymentId"] == nil, cells["uetr"] == nil, !errors[before...].contains(where: { $0.pointer.hasSuffix("/paymentId") || $0.pointer.hasSuffix("/uetr") }) {
            errors.append(FieldError(pointer: pointer + "/paymentId", detail: "A report needs a paymentId or a uetr (or both)."))
        }
        guard errors.count == before else { return nil }
        let columns = Array(cells.keys)
        let row = RowCells(cells: columns.map { cells[$0]! }, index: Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) }))
        do {
            return try DailyFileRows.fraudReport(row)
        } catch {
            errors.append(FieldError(pointer: pointer + Self.pointer(ofColumn: error.column), detail: error.reason))
            return nil
        }
    }

    /// An object whose every member is null or absent: an empty cell group in the file, but a mistake in JSON.
    static func isEmptyObject(_ value: JSONValue) -> Bool {
        guard case .object(let members) = value else { return false }
        return members.allSatisfy { if case .null = $0.value { true } else { false } }
    }

    /// Where a file column's value sits in a report object.
    static func pointer(ofColumn column: String?) -> String {
        guard let column else { return "" }
        switch column {
        case "amountLost": return "/amountLost/amount"
        case "currency": return "/amountLost/currency"
        case "creditor.account": return "/creditorAccount"
        case let account where account.hasPrefix("creditor.account."): return "/creditorAccount/" + account.dropFirst("creditor.account.".count)
        default: return "/" + column
        }
    }

    /// `key` as an RFC 6901 reference token.
    static func escape(_ key: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            switch scalar {
            case "~": escaped.append(contentsOf: "~0".unicodeScalars)
            case "/": escaped.append(contentsOf: "~1".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
