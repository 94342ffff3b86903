import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilServer

/// The served OpenAPI document and the implementation describe the same API.
struct OpenAPIDocumentTests {
    @Test func documentMatchesTheImplementation() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let document = try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                return object(response.body)
            }
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            #expect(Set(paths.keys) == [
                "/v1/payments/score", "/v1/iso20022/pacs.008", "/v1/iso20022/pacs.002", "/v1/iso20022/camt.056", "/v1/files",
                "/v1/files/{id}", "/v1/fraud-reports", "/health", "/ready", "/metrics", "/openapi.json",
            ])
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let responseSchema = try #require(schemas["ScoreResponse"] as? [String: Any])
            let answer = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody())) {
                object($0.body)
            }
            let documented = Set(try #require(responseSchema["required"] as? [String]))
            #expect(documented == Set(answer.keys))
            // `degraded` appears only on a degraded answer (a shared store that failed): RedisStateBackendTests.
            #expect(Set((responseSchema["properties"] as? [String: Any] ?? [:]).keys) == Set(answer.keys).union(["degraded"]))
            let requestSchema = try #require(schemas["ScoreRequest"] as? [String: Any])
            let properties = Set((requestSchema["properties"] as? [String: Any] ?? [:]).keys)
            // `uetr` names a payment across its banks, so the shared test body leaves it out (ConsortiumFoldTests sends it).
            #expect(properties == Set(paymentBody().keys).union(["uetr"]))
            #expect(Set(requestSchema["required"] as? [String] ?? []) == ["paymentId", "perspective", "type", "scheme", "amount", "currency", "createdAt", "debtor", "creditor"])
        }
    }

    /// Every problem the server can answer is documented, and nothing undocumented is.
    @Test func everyProblemTypeIsDocumented() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes())) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let type = try #require(((schemas["Problem"] as? [String: Any])?["properties"] as? [String: Any])?["type"] as? [String: Any])
        #expect(Set(type["enum"] as? [String] ?? []) == Set(ProblemDetails.Kind.allCases.map(\.type)))
    }
}
