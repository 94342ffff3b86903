import Foundation

/// One request a load run sent and what became of it: kept with `LoadPlan.recordRequests`, written by `vigil bench
/// --record` as one JSON line, so a test can check every acknowledged payment against the servers' logs.
public struct RecordedRequest: Sendable {
    /// Which of the plan's `endpoints` it was sent to.
    public var endpoint: Int
    /// The answer's HTTP status; nil when none came (`failure` says why).
    public var status: UInt?
    /// Why no answer came: "connection" (it broke or closed), "tls" or "timeout" (the drain deadline passed).
    public var failure: String?
    /// The body sent.
    public var request: [UInt8]
    /// The answer's body; empty when none came.
    public var answer: [UInt8]

    public init(endpoint: Int, status: UInt?, failure: String?, request: [UInt8], answer: [UInt8]) {
        self.endpoint = endpoint
        self.status = status
        self.failure = failure
        self.request = request
        self.answer = answer
    }

    /// One JSON object on one line: `paymentId` (from the body sent), `url` (`urls[endpoint]`), `status` (null
    /// when no answer came), `error` (the failure, or null), `scoreId` and `duplicate` (from a JSON answer that
    /// has them, else null), and `request`, the body sent, as it was sent.
    public func jsonLine(urls: [String]) -> String {
        let sent = (try? JSONSerialization.jsonObject(with: Data(request))) as? [String: Any]
        let answered = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any]
        let url = endpoint < urls.count ? urls[endpoint] : nil
        let fields: [(String, Any?)] = [
            ("paymentId", sent?["paymentId"] as? String), ("url", url), ("status", status.map { Int($0) }),
            ("error", failure), ("scoreId", answered?["scoreId"] as? String), ("duplicate", answered?["duplicate"] as? Bool),
        ]
        var line = "{"
        for (name, value) in fields {
            line += "\"\(name)\":\(Self.json(value)),"
        }
        let body = sent != nil ? String(decoding: request, as: UTF8.self) : "null"
        return line + "\"request\":\(body)}"
    }

    private static func json(_ value: Any?) -> String {
        switch value {
        case let text as String:
            let data = (try? JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed)) ?? Data("null".utf8)
            return String(decoding: data, as: UTF8.self)
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        default: return "null"
        }
    }
}
