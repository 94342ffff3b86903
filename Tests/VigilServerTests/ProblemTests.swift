import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilServer

/// Every way a request can be wrong gets a specific RFC 9457 problem, never a 500.
struct ProblemTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var mutate: @Sendable (inout [String: Any]) -> Void
        var pointer: String
    }

    static let validationCases: [Case] = [
        Case(description: "wrong type", mutate: { $0["amount"] = 12.5 }, pointer: "/amount"),
        Case(description: "missing field", mutate: { $0["createdAt"] = nil }, pointer: "/createdAt"),
        Case(description: "unknown enum", mutate: { $0["perspective"] = "both" }, pointer: "/perspective"),
        Case(description: "unknown field", mutate: { $0["ammount"] = "1.00" }, pointer: "/ammount"),
        Case(description: "bad IBAN checksum", mutate: { $0["creditor"] = ["account": ["iban": "GB83WEST12345698765432"]] }, pointer: "/creditor/account/iban"),
        Case(description: "negative amount", mutate: { $0["amount"] = "-5.00" }, pointer: "/amount"),
        Case(description: "zero amount", mutate: { $0["amount"] = "0.00" }, pointer: "/amount"),
        Case(description: "over-precise amount", mutate: { $0["amount"] = "5.001" }, pointer: "/amount"),
        Case(description: "unknown currency", mutate: { $0["currency"] = "XYZ" }, pointer: "/currency"),
        Case(description: "not RFC 3339", mutate: { $0["createdAt"] = "2026-11-22 09:30" }, pointer: "/createdAt"),
        Case(description: "bad IP", mutate: { $0["device"] = ["ip": "1.2.3"] }, pointer: "/device/ip"),
    ]

    static func expectProblem(_ response: TestResponse, status: HTTPResponse.Status, type: String) -> [String: Any] {
        #expect(response.status == status)
        #expect(response.headers[.contentType] == "application/problem+json")
        let problem = object(response.body)
        #expect(problem["type"] as? String == "urn:vigil:problem:" + type)
        #expect(problem["status"] as? Int == Int(status.code))
        #expect(problem["title"] is String)
        #expect(problem["detail"] is String)
        return problem
    }

    @Test func validationFailuresPointAtTheField() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            for testCase in Self.validationCases {
                var body = paymentBody()
                testCase.mutate(&body)
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { response in
                    let problem = Self.expectProblem(response, status: .badRequest, type: "validation-failed")
                    let pointers = (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
                    #expect(pointers == [testCase.pointer], "\(testCase)")
                }
            }
        }
    }

    @Test func malformedJSONIsA400() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            for text in ["{\"paymentId\": ", "[]", "not json", ""] {
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: ByteBuffer(string: text)) {
                    _ = Self.expectProblem($0, status: .badRequest, type: "malformed-json")
                }
            }
        }
    }

    /// A body that names a field twice could be read two ways; it is refused before any field is read.
    @Test func aFieldGivenTwiceIsMalformedJSON() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var text = String(buffer: json(paymentBody()))
            text.removeLast()
            text += #","amount":"99999.00"}"#
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: ByteBuffer(string: text)) {
                let problem = Self.expectProblem($0, status: .badRequest, type: "malformed-json")
                let detail = problem["detail"] as? String ?? ""
                #expect(detail.hasPrefix("The body is not valid JSON: an object key appears twice at byte "))
                #expect(!detail.contains("99999"))
            }
        }
    }

    @Test func oversizedBodiesAreA413() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var body = paymentBody()
            body["reference"] = String(repeating: "x", count: 70_000)
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) {
                _ = Self.expectProblem($0, status: .contentTooLarge, type: "payload-too-large")
            }
        }
    }

    @Test func routingProblems() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            try await client.execute(uri: "/v1/accounts/GB82WEST12345698765432", method: .post, headers: headers(key: key)) {
                let problem = Self.expectProblem($0, status: .notFound, type: "not-found")
                #expect(problem["instance"] == nil)
                #expect(!String(buffer: $0.body).contains("GB82WEST"))
            }
            try await client.execute(uri: "/v1/payments/score", method: .get, headers: headers(key: key)) {
                _ = Self.expectProblem($0, status: .methodNotAllowed, type: "method-not-allowed")
                #expect($0.headers[.allow] == "POST")
            }
            try await client.execute(uri: "/health", method: .delete) {
                _ = Self.expectProblem($0, status: .methodNotAllowed, type: "method-not-allowed")
            }
        }
    }

    @Test func missingOrWrongKeysAreA401() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            for fields in [headers(key: nil), headers(key: "vgl_wrong"), [HTTPField.Name.authorization: "Basic \(key)", .contentType: "application/json"]] {
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: fields, body: json(paymentBody())) {
                    _ = Self.expectProblem($0, status: .unauthorized, type: "unauthorized")
                    #expect($0.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                }
            }
        }
    }

    @Test func theBearerSchemeIsCaseInsensitiveAndTheKeyMustBeWhole() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            for scheme in ["bearer", "BEARER", "BeArEr"] {
                let fields: HTTPFields = [.authorization: "\(scheme)  \(key) ", .contentType: "application/json"]
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: fields, body: json(paymentBody())) {
                    #expect($0.status == .ok, "scheme \(scheme)")
                }
            }
            for value in ["Bearer \(key) extra", "Bearer \(key.dropLast())", "Bearerx \(key)", "Bearer"] {
                let fields: HTTPFields = [.authorization: value, .contentType: "application/json"]
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: fields, body: json(paymentBody())) {
                    _ = Self.expectProblem($0, status: .unauthorized, type: "unauthorized")
                }
            }
        }
    }

    @Test func aWrongContentTypeIsA415() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            for type in ["text/plain", "application/jsonx", "application/json-seq", "application/problem+json", ""] {
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key, contentType: type), body: json(paymentBody())) {
                    _ = Self.expectProblem($0, status: .unsupportedMediaType, type: "unsupported-media-type")
                }
            }
            // Case, parameters and blanks around the media type do not matter (RFC 9110 §8.3.1).
            for type in ["Application/JSON", "application/json; charset=utf-8", " application/json\t;charset=UTF-8"] {
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key, contentType: type), body: json(paymentBody())) {
                    #expect($0.status == .ok, "Content-Type \(type)")
                }
            }
        }
    }

    @Test func aTenantNotEntitledToAPerspectiveGetsA403() async throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        let key = try directory.create(name: "sender-only", perspectives: [.sending])
        try await withVigil(dataDirectory: dir) { client, _ in
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(perspective: "receiving"))) {
                _ = Self.expectProblem($0, status: .forbidden, type: "forbidden-perspective")
            }
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(perspective: "sending"))) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func noDetailEchoesASubmittedValue() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var body = paymentBody(debtorName: String(repeating: "Canarywick", count: 20))
            body["amount"] = "CANARY-1"
            body["createdAt"] = "CANARY-2"
            body["creditor"] = ["account": ["iban": "GB00CANARY00000000000"]]
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { response in
                let text = String(buffer: response.body)
                #expect(response.status == .badRequest)
                #expect(!text.contains("CANARY"))
                #expect(!text.contains("Canarywick"))
            }
        }
    }

    @Test func randomBodiesNeverProduceA500() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var generator = SystemRandomNumberGenerator()
            let valid = try JSONSerialization.data(withJSONObject: paymentBody())
            for _ in 0..<200 {
                var bytes = Array(valid)
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: ByteBuffer(bytes: bytes)) {
                    #expect($0.status != .internalServerError)
                    #expect([200, 400, 409].contains(Int($0.status.code)))
                }
            }
        }
    }
}
