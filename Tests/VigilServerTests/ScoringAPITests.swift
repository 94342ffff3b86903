import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilServer

struct ScoringAPITests {
    @Test func firstStartCreatesTheDemoTenantAndScores() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            #expect(key.hasPrefix("vgl_"))
            let body = paymentBody(id: "pay-1")
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let answer = object(response.body)
                #expect(answer["paymentId"] as? String == "pay-1")
                #expect(UUID(uuidString: answer["scoreId"] as? String ?? "") != nil)
                let score = try #require(answer["score"] as? Int)
                #expect((0...999).contains(score))
                #expect(["allow", "review", "block"].contains(answer["decision"] as? String))
                #expect(answer["reasons"] is [Any])
                #expect(answer["rules"] is [Any])
                #expect(answer["duplicate"] as? Bool == false)
                #expect((answer["modelVersion"] as? String)?.hasPrefix("xgb-") == true)
                #expect((answer["processingMicros"] as? Int ?? -1) >= 0)
                #expect(Set(answer.keys) == ["paymentId", "scoreId", "score", "decision", "reasons", "rules", "duplicate", "modelVersion", "processingMicros"])
                // The body is exactly what JSONEncoder writes for the same response, as before EventCoding wrote it.
                let bytes = Array(response.body.readableBytesView)
                let decoded = try JSONDecoder().decode(ScoreResponse.self, from: Data(bytes))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                #expect(bytes == Array(try encoder.encode(decoded)))
            }
        }
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/demo.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func anExactRetryReturnsTheOriginalMarkedDuplicate() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let body = paymentBody(id: "retry-1")
            let first = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { object($0.body) }
            let second = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { object($0.body) }
            #expect(second["duplicate"] as? Bool == true)
            #expect(second["scoreId"] as? String == first["scoreId"] as? String)
            #expect(second["score"] as? Int == first["score"] as? Int)
        }
    }

    @Test func aReusedPaymentIdWithAnotherAmountIsAConflictAlsoAfterARestart() async throws {
        let dir = temporaryDataDirectory()
        for restart in [false, true] {
            try await withVigil(dataDirectory: dir) { client, key in
                let score = { (amount: String) in
                    try await client.execute(
                        uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(id: "reused-1", amount: amount))
                    ) { ($0.status, $0.headers[.contentType], object($0.body)) }
                }
                if !restart { #expect(try await score("2500.00").0 == .ok) }
                let (status, contentType, problem) = try await score("9999.00")
                #expect(status == .conflict)
                #expect(contentType == "application/problem+json")
                #expect(problem["type"] as? String == "urn:vigil:problem:payment-id-reused")
                #expect(problem["status"] as? Int == 409)
                #expect((problem["detail"] as? String)?.contains("9999") == false)
                let (exact, _, answer) = try await score("2500.00")
                #expect(exact == .ok)
                #expect(answer["duplicate"] as? Bool == true)
            }
        }
    }

    @Test func aCreatedAtFarAheadOfTheServersClockIsRefusedAtItsPointer() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            var body = paymentBody(id: "future-1")
            body["createdAt"] = "2099-01-01T00:00:00Z"
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { response in
                #expect(response.status == .badRequest)
                let problem = object(response.body)
                #expect(problem["type"] as? String == "urn:vigil:problem:validation-failed")
                let errors = problem["errors"] as? [[String: Any]] ?? []
                #expect(errors.map { $0["pointer"] as? String } == ["/createdAt"])
                #expect(!String(buffer: response.body).contains("2099"))
            }
        }
    }

    @Test func aRestartLosesNothing() async throws {
        let dir = temporaryDataDirectory()
        let first = try await withVigil(dataDirectory: dir) { client, key in
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(id: "durable-1"))) {
                object($0.body)["scoreId"] as? String
            }
        }
        try await withVigil(dataDirectory: dir) { client, key in
            let again = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(id: "durable-1"))) {
                object($0.body)
            }
            #expect(again["duplicate"] as? Bool == true)
            #expect(again["scoreId"] as? String == first)
        }
    }

    @Test func operationalEndpointsAnswer() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ready", method: .get) { #expect($0.status == .ok) }
            _ = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody()))
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"vigil_http_requests_total{route="/v1/payments/score",status="200"} 1"#))
                #expect(text.contains(#"vigil_decisions_total{tenant="demo""#))
                #expect(text.contains("vigil_http_request_duration_seconds_bucket"))
                #expect(text.contains("vigil_event_log_fsync_seconds_count"))
                #expect(text.contains(#"vigil_feature_state_keys{kind="account"} 2"#))
                #expect(text.contains("vigil_duplicate_index_entries 1"))
            }
        }
    }
}

struct TenantReloadTests {
    /// A tenant created while the server runs (as `vigil tenant create` does) can score without a restart.
    @Test func aNewTenantIsPickedUpWithoutARestart() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let key = try TenantDirectory(dataDirectory: dir).create(name: "late-bank")
            var status: HTTPResponse.Status = .unauthorized
            // The reloader polls once a second; allow it a generous number of polls.
            for _ in 0..<100 where status == .unauthorized {
                try await Task.sleep(for: .milliseconds(100))
                status = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody())) {
                    $0.status
                }
            }
            #expect(status == .ok)
        }
    }

    /// An invalid tenant file is refused and the previous tenants keep working.
    @Test func anInvalidTenantFileKeepsThePreviousTenants() async throws {
        let dir = temporaryDataDirectory()
        let logs = LogCapture()
        try await withVigil(dataDirectory: dir, logs: logs) { client, key in
            try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/tenants.json"))
            // Wait until the reloader has seen the bad file, so the request below really tests the fallback.
            for _ in 0..<100 where !logs.text.contains("Kept the previous tenants") {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(logs.text.contains("Kept the previous tenants"))
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody())) {
                #expect($0.status == .ok)
            }
        }
    }
}
