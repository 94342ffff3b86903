import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilRedisState
import VigilServer

/// One payment, one count: when a payment's sending bank and its receiving bank both score it, the consortium state
/// counts it once. Over HTTP, with two tenants, on the in-process store and on Redis.
struct ConsortiumFoldTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case memory, redis
        var testDescription: String { rawValue }
    }

    static func body(
        _ id: String, perspective: String, createdAt: String, debtor: String, creditorAccount: String, amount: String = "40.00"
    ) -> ByteBuffer {
        ByteBuffer(string: """
            {"paymentId":"\(id)","perspective":"\(perspective)","type":"push","scheme":"FPS","amount":"\(amount)","currency":"GBP",
             "createdAt":"\(createdAt)","debtor":{"account":{"sortCode":"404142","accountNumber":"\(debtor)"},"agent":"NWBKGB2L"},
             "creditor":{"account":{"sortCode":"202020","accountNumber":"\(creditorAccount)"}}}
            """)
    }

    @Test(arguments: Store.allCases)
    func aPaymentScoredByBothItsBanksIsCountedOnce(_ store: Store) async throws {
        let dir = NSTemporaryDirectory() + "vigil-fold-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dir
        configuration.port = 0
        let admin = Administration(configuration: configuration, actor: AuditLog.Actor(name: "test"))
        let sending = try admin.createTenant(name: "sending-bank")
        let receiving = try admin.createTenant(name: "receiving-bank")
        let run: @Sendable (any ApplicationProtocol) async throws -> Void = { app in
            try await app.test(.router) { http in
                for _ in 0..<500 {
                    let status = try await http.execute(uri: "/ready", method: .get) { $0.status }
                    if status == .ok { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                // A creditor no test has paid, so its inbound count starts at zero on a shared server too.
                let creditor = String(Int.random(in: 10_000_000...99_999_999))
                let createdAt = ISO8601DateFormatter().string(from: Date())
                let debtor = String(Int.random(in: 10_000_000...99_999_999))
                // The same payment, as each of its banks sends it (the same accounts, amount and createdAt; each
                // bank's own payment id).
                let shared = Self.body("out-1", perspective: "sending", createdAt: createdAt, debtor: debtor, creditorAccount: creditor)
                for (key, id, perspective) in [(sending, "out-1", "sending"), (receiving, "in-1", "receiving")] {
                    let body = ByteBuffer(string: String(buffer: shared).replacingOccurrences(of: "\"out-1\"", with: "\"\(id)\"")
                        .replacingOccurrences(of: "\"sending\"", with: "\"\(perspective)\""))
                    let response = try await http.execute(
                        uri: "/v1/payments/score", method: .post, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                        body: body
                    ) { $0 }
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
                // Another payment to the same creditor sees one payment received, not two.
                let next = Self.body("out-2", perspective: "sending", createdAt: createdAt, debtor: debtor, creditorAccount: creditor, amount: "41.00")
                let response = try await http.execute(
                    uri: "/v1/payments/score", method: .post, headers: [.authorization: "Bearer \(sending)", .contentType: "application/json"],
                    body: next
                ) { $0 }
                #expect(response.status == .ok)
            }
        }
        switch store {
        case .memory:
            try await run(try await buildApplication(configuration: configuration, logger: Logger(label: "test")))
        case .redis:
            configuration.state = try RedisTestEnvironment.variable("VIGIL_TEST_REDIS_URL")
            configuration.statePrefix = "test-\(UInt64.random(in: 0...UInt64.max)):"
            configuration.stateTimeoutMilliseconds = 5000
            let backend = try await RedisStateBackend.connect(configuration: configuration)
            try await run(try await buildApplication(configuration: configuration, backend: backend, logger: Logger(label: "test")))
        }
        var counts: [String: Double] = [:]
        try FileEventLog.read(directory: dir + "/events") { _, payload in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(EventCoding.exportJSON(payload))) as? [String: Any])
            let features = try #require(event["features"] as? [Any])
            counts[event["paymentId"] as? String ?? ""] = features[Self.inboundCount1h] as? Double
        }
        // The sending bank's request saw the creditor before the payment; the receiving bank's, scored after it, sees
        // the payment already counted (once); the next payment to the creditor sees one payment received, not two.
        #expect(counts["out-1"] == 0)
        #expect(counts["in-1"] == 1)
        #expect(counts["out-2"] == 1)
    }

    static var inboundCount1h: Int { Feature.creditorInboundCount1h.rawValue }

    /// With a UETR, the banks' own timestamps may differ: both requests name the same payment by it.
    @Test func aUETRNamesThePaymentWhateverEachBanksTimestamp() async throws {
        let dir = NSTemporaryDirectory() + "vigil-fold-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dir
        configuration.port = 0
        let admin = Administration(configuration: configuration, actor: AuditLog.Actor(name: "test"))
        let sending = try admin.createTenant(name: "sending-bank")
        let receiving = try admin.createTenant(name: "receiving-bank")
        let app = try await buildApplication(configuration: configuration, logger: Logger(label: "test"))
        let uetr = UUID().uuidString.lowercased()
        try await app.test(.router) { http in
            for _ in 0..<500 {
                let status = try await http.execute(uri: "/ready", method: .get) { $0.status }
                if status == .ok { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let now = Date()
            let formatter = ISO8601DateFormatter()
            let creditor = String(Int.random(in: 10_000_000...99_999_999))
            let debtor = String(Int.random(in: 10_000_000...99_999_999))
            let requests = [
                (sending, "out-1", "sending", formatter.string(from: now.addingTimeInterval(-2)), uetr),
                (receiving, "in-1", "receiving", formatter.string(from: now), uetr),
                (sending, "out-2", "sending", formatter.string(from: now), UUID().uuidString),
            ]
            for (key, id, perspective, createdAt, paymentUETR) in requests {
                var text = String(buffer: Self.body(id, perspective: perspective, createdAt: createdAt, debtor: debtor, creditorAccount: creditor))
                text.removeLast()
                text += #","uetr":"\#(paymentUETR)"}"#
                let response = try await http.execute(
                    uri: "/v1/payments/score", method: .post, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                    body: ByteBuffer(string: text)
                ) { $0 }
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
        }
        var counts: [String: Double] = [:]
        try FileEventLog.read(directory: dir + "/events") { _, payload in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(EventCoding.exportJSON(payload))) as? [String: Any])
            let features = try #require(event["features"] as? [Any])
            counts[event["paymentId"] as? String ?? ""] = features[Self.inboundCount1h] as? Double
        }
        #expect(counts == ["out-1": 0, "in-1": 1, "out-2": 1])
    }
}
