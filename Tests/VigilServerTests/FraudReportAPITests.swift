import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilFiles
import VigilGateway
import VigilProtection
@testable import VigilServer

/// `POST /v1/fraud-reports` and the `LabelRecorder` behind it: authenticated like scoring, validated by the daily
/// file's rules, all or nothing, logged as label events and applied to the consortium list.
@Suite(.timeLimit(.minutes(2)))
struct FraudReportAPITests {
    static let canaryIBAN = "GB33BUKB20201555555555"

    func post(_ client: any TestClientProtocol, key: String?, _ body: Any, contentType: String = "application/json") async throws -> TestResponse {
        try await client.execute(uri: "/v1/fraud-reports", method: .post, headers: headers(key: key, contentType: contentType), body: json(body)) { $0 }
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Every record of the data directory's event log, read.
    func logged(_ dir: String) throws -> [LoggedEvent] {
        var events: [LoggedEvent] = []
        try FileEventLog.read(directory: dir + "/events") { _, payload in events.append(try EventCoding.decodeRecord(payload)) }
        return events
    }

    @Test func aBatchIsLoggedAsLabelsAndItsCreditorJoinsTheConsortiumList() async throws {
        let dir = temporaryDataDirectory()
        let logs = LogCapture()
        let paymentId = "pay-\(UUID().uuidString)"
        try await withVigil(dataDirectory: dir, logs: logs) { client, key in
            let response = try await post(client, key: key, [
                "reports": [
                    [
                        "paymentId": paymentId, "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "app_scam",
                        "amountLost": ["amount": "250.00", "currency": "GBP"], "reportingSide": "sending",
                        "creditorAccount": ["iban": Self.canaryIBAN],
                    ],
                    ["uetr": "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", "reportedAt": "2026-11-24T10:00:00+01:00", "fraudType": "mule"],
                ]
            ])
            #expect(response.status == .ok)
            #expect(object(response.body)["recorded"] as? Int == 2)
            #expect(response.headers[.contentType] == "application/json")
            // The answer and the documented body are the ones the route reads and writes.
            let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes())) as? [String: Any])
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let answerSchema = try #require(schemas["LabelsRecorded"] as? [String: Any])
            #expect(Set(answerSchema["required"] as? [String] ?? []) == Set(object(response.body).keys))
            let reportSchema = try #require(schemas["FraudReport"] as? [String: Any])
            #expect(Set((reportSchema["properties"] as? [String: Any] ?? [:]).keys) == [
                "paymentId", "uetr", "reportedAt", "fraudType", "amountLost", "reportingSide", "creditorAccount",
            ])
            // One report on its own, not in a batch.
            let single = try await post(client, key: key, ["paymentId": "other", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "other"])
            #expect(object(single.body)["recorded"] as? Int == 1)
            // A payment to the reported creditor now sees the report.
            var body = paymentBody(creditorIBAN: Self.canaryIBAN)
            // A few seconds on (within the allowed skew), so the payment comes after the report at the second.
            body["createdAt"] = ISO8601DateFormatter().string(from: Date().addingTimeInterval(5))
            let scored = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { $0 }
            #expect(scored.status == .ok)
        }
        let events = try logged(dir)
        let labels = events.compactMap { event -> LabelEvent? in if case .label(let label) = event { label } else { nil } }
        #expect(labels.count == 3)
        #expect(labels.allSatisfy { $0.tenant == "demo" && $0.source == .api })
        guard case .fraudReport(let first) = labels.first?.record else {
            Issue.record("the first label is not a fraud report")
            return
        }
        #expect(first.paymentId == paymentId)
        #expect(first.amountLost?.decimalString == "250.00")
        #expect(first.reportingSide == .sending)
        #expect(first.creditorAccount != nil)
        guard case .fraudReport(let second) = labels[1].record else { return }
        #expect(second.uetr == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        #expect(second.paymentId == nil)
        // Both in one batch: the same receive time.
        #expect(labels[0].receivedAt == labels[1].receivedAt)
        // The creditor's token is the token a payment to that account carries, and the list counted it.
        guard case .scored(let payment)? = events.last else {
            Issue.record("the last record is not the scored payment")
            return
        }
        #expect(payment.request.creditor.account == first.creditorAccount)
        let reported = Feature.allCases.firstIndex { $0.name == "creditor.reported_fraud_count_90d" }!
        #expect(payment.features[reported] == 1)
        // No plaintext account anywhere: not in the data directory, not in the logs.
        for (path, bytes) in filesUnder(dir) {
            #expect(bytes.range(of: Data(Self.canaryIBAN.utf8)) == nil, "\(path)")
        }
        #expect(!logs.text.contains(Self.canaryIBAN))
        #expect(logs.text.contains("Recorded fraud reports"))
    }

    @Test func oneBadReportRefusesTheBatchAndPointsAtEachField() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await post(client, key: key, [
                "reports": [
                    ["paymentId": "p-1", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "app_scam"],
                    ["paymentId": "p-2", "reportedAt": "yesterday", "fraudType": "phishing", "creditorAccount": ["iban": "GB00NOTANIBAN"]],
                    ["reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "amountLost": ["amount": "12.50"], "colour": "red"],
                    ["paymentId": "p-4", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "amountLost": ["amount": "-1", "currency": "GBP"]],
                    "not an object",
                ]
            ])
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = object(response.body)
            #expect(problem["type"] as? String == "urn:vigil:problem:validation-failed")
            let pointers = Set((problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String })
            #expect(pointers == [
                "/reports/1/reportedAt", "/reports/2/colour", "/reports/2/paymentId", "/reports/3/amountLost/amount", "/reports/4",
            ])
            // The file's rules, in the file's words.
            let text = String(decoding: Data(response.body.readableBytesView), as: UTF8.self)
            #expect(text.contains("RFC 3339"))
            #expect(!text.contains("GB00NOTANIBAN"))
            #expect(!text.contains("yesterday"))

            let badType = try await post(client, key: key, ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "phishing"])
            let errors = object(badType.body)["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["pointer"] as? String == "/fraudType")
            #expect((errors.first?["detail"] as? String)?.contains("app_scam") == true)
            let missingCurrency = try await post(client, key: key, ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "amountLost": ["amount": "1.00"]])
            #expect((object(missingCurrency.body)["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/amountLost/currency")
            let badAccount = try await post(client, key: key, ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule", "creditorAccount": ["iban": "GB00NOTANIBAN"]])
            #expect((object(badAccount.body)["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/creditorAccount/iban")
            let empty = try await post(client, key: key, ["reports": [Any]()])
            #expect((object(empty.body)["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/reports")
            let tooMany = try await post(client, key: key, [
                "reports": Array(repeating: ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule"], count: FraudReportRequest.maxReports + 1)
            ])
            #expect(tooMany.status == .badRequest)
            let notJSON = try await client.execute(
                uri: "/v1/fraud-reports", method: .post, headers: headers(key: key), body: ByteBuffer(string: "{\"reports\": [")
            ) { $0 }
            #expect(object(notJSON.body)["type"] as? String == "urn:vigil:problem:malformed-json")
        }
        #expect(try logged(dir).allSatisfy { if case .label = $0 { false } else { true } })
    }

    @Test func itIsAuthenticatedLikeScoring() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let report = ["paymentId": "p", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule"]
            #expect(try await post(client, key: nil, report).status == .unauthorized)
            #expect(try await post(client, key: "not-a-key", report).status == .unauthorized)
            #expect(try await post(client, key: key, report, contentType: "text/csv").status == .unsupportedMediaType)
            let get = try await client.execute(uri: "/v1/fraud-reports", method: .get, headers: headers(key: key)) { $0 }
            #expect(get.status == .methodNotAllowed)
        }
    }

    /// Reports do not spend the usage plan, which meters scored payments: a tenant whose daily quota is used up
    /// still reports fraud.
    @Test func reportsDoNotSpendTheUsagePlan() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let admin = Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
            let key = try admin.createTenant(name: "quota")
            try admin.setPlan(name: "quota", plan: UsagePlan(ratePerSecond: 1000, burst: 1000, dailyQuota: 1))
            func score() async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody())) { $0.status }
            }
            #expect(try await eventually { try await score() == .tooManyRequests })
            for index in 0..<5 {
                let response = try await post(client, key: key, ["paymentId": "p-\(index)", "reportedAt": "2026-11-23T10:00:00Z", "fraudType": "mule"])
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("RateLimit")!] == nil)
            }
            #expect(try await score() == .tooManyRequests)
        }
    }

    // MARK: - LabelRecorder

    static func recorder(log: InMemoryEventLog, reference: InMemoryReferenceStore) -> LabelRecorder<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex> {
        LabelRecorder(engine: ScoringEngine(
            store: InMemoryFeatureStore(), log: log, model: try! ModelBundle.bundled(), duplicates: DuplicateIndex(), reference: reference
        ))
    }

    static func keys() throws -> KeyRing {
        let dir = temporaryPath()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = KeyStore(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        _ = try store.ensureDataKeys { ["bank-a"] }
        return try #require(try store.open().scoped(to: "bank-a"))
    }

    static let reports = [
        ParsedFraudReport(paymentId: "p-1", uetr: nil, reportedAt: Instant(epochMillis: 1_000), fraudType: .appScam, creditorAccount: .iban(canaryIBAN)),
    ]
    static let outcomes = [
        ParsedStatus(paymentId: "p-2", uetr: nil, status: .returned, reasonCode: "FRAD", at: Instant(epochMillis: 2_000), creditorAccount: .iban(canaryIBAN)),
    ]

    @Test func theRecorderTokenisesLogsInOneBatchThenApplies() async throws {
        let (log, reference) = (InMemoryEventLog(), InMemoryReferenceStore())
        let keys = try Self.keys()
        let count = try await Self.recorder(log: log, reference: reference).record(
            fraudReports: Self.reports, outcomes: Self.outcomes, tenant: "bank-a", keys: keys, source: .pacs002, receivedAt: Instant(epochMillis: 5_000)
        )
        #expect(count == 2)
        let events = try log.records.map { try EventCoding.decodeRecord($0) }
        let token = keys.token(.account, AccountIdentifier.iban(Self.canaryIBAN).canonical.utf8)
        #expect(events == [
            .label(LabelEvent(tenant: "bank-a", receivedAt: Instant(epochMillis: 5_000), source: .pacs002, record: .fraudReport(Self.reports[0].report(creditorAccount: token)))),
            .label(LabelEvent(tenant: "bank-a", receivedAt: Instant(epochMillis: 5_000), source: .pacs002, record: .outcome(Self.outcomes[0].report(creditorAccount: token)))),
        ])
        #expect(log.records.allSatisfy { Data($0).range(of: Data(Self.canaryIBAN.utf8)) == nil })
        let query = ReferenceQuery(tenant: "bank-b", debtor: token, creditor: token, debtorInstitution: nil, creditorInstitution: nil)
        #expect(reference.facts(query).creditorReports == [ReportTimes(knownAt: 5_000, reportedAt: 1_000), ReportTimes(knownAt: 5_000, reportedAt: 2_000)])
    }

    @Test func aRefusedAppendRecordsNothing() async throws {
        let (log, reference) = (InMemoryEventLog(), InMemoryReferenceStore())
        log.fail(with: EventLogError(code: .io, message: "disk full"))
        let keys = try Self.keys()
        await #expect(throws: LabelRecordingError(code: .logUnavailable)) {
            try await Self.recorder(log: log, reference: reference).record(
                fraudReports: Self.reports, outcomes: Self.outcomes, tenant: "bank-a", keys: keys, source: .api, receivedAt: Instant(epochMillis: 5_000)
            )
        }
        #expect(log.records.isEmpty)
        let token = keys.token(.account, AccountIdentifier.iban(Self.canaryIBAN).canonical.utf8)
        let query = ReferenceQuery(tenant: "bank-b", debtor: token, creditor: token, debtorInstitution: nil, creditorInstitution: nil)
        #expect(reference.facts(query).creditorReports.isEmpty)
    }
}
