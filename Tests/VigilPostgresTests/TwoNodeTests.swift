import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VigilPostgres
import VigilProtection
import VigilServer

/// Two applications built by `buildApplication` against one PostgreSQL control plane, as two nodes behind a load
/// balancer: what an administrator changes through either takes effect on both.
@Suite(.timeLimit(.minutes(2)))
struct TwoNodeTests {
    @Test func aTenantCreatedAndAKeyRolledOnOneNodeTakeEffectOnBoth() async throws {
        let url = try await freshDatabase()
        let (dirA, dirB) = (temporaryDirectory(), temporaryDirectory())
        defer { for dir in [dirA, dirB] { try? FileManager.default.removeItem(atPath: dir) } }
        let appA = try await buildApplication(configuration: configuration(dirA), controlPlane: try await PostgresControlPlane.open(url), logger: testLogger)
        // Node B shares node A's master key (made while A was built), as nodes of one deployment do; PostgreSQL
        // holds only wrapped keys.
        let masterKey = try Data(contentsOf: URL(fileURLWithPath: dirA + "/master.key"))
        try AtomicFile.write(Array(masterKey), to: dirB + "/master.key", mode: 0o600)
        try await appA.test(.router) { a in
            try await waitReady(a)
            let appB = try await buildApplication(
                configuration: configuration(dirB), controlPlane: try await PostgresControlPlane.open(url), logger: testLogger
            )
            try await appB.test(.router) { b in
                try await waitReady(b)
                let nodeA = Administration(
                    plane: try await PostgresControlPlane.open(url), provider: FileKeyProvider(path: dirA + "/master.key"),
                    actor: .init(name: "test")
                )
                let key = try nodeA.createTenant(name: "bank-b")
                for node in [a, b] {
                    #expect(try await eventually { try await score(node, key: key) == .ok })
                }
                let rolled = try nodeA.addAPIKey(name: "bank-b")
                #expect(try nodeA.revokeAPIKey(name: "bank-b", keyID: TenantConfig.keyID(hash: APIKey.hash(key))) == 1)
                for node in [a, b] {
                    #expect(try await eventually { try await score(node, key: key) == .unauthorized })
                    #expect(try await score(node, key: rolled) == .ok)
                }
            }
        }
        // Only the first node made the demo tenant, so only its data directory holds the demo key.
        #expect(FileManager.default.fileExists(atPath: dirA + "/demo.key"))
        #expect(!FileManager.default.fileExists(atPath: dirB + "/demo.key"))
    }

    func configuration(_ directory: String) -> VigilConfiguration {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = directory
        configuration.port = 0
        configuration.eventLogSegmentBytes = 64 << 10
        return configuration
    }

    func waitReady(_ client: any TestClientProtocol) async throws {
        #expect(try await eventually { try await client.execute(uri: "/ready", method: .get) { $0.status } == .ok })
    }

    func score(_ client: any TestClientProtocol, key: String) async throws -> HTTPResponse.Status {
        let body: [String: Any] = [
            "paymentId": UUID().uuidString, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
            "amount": "250.00", "currency": "GBP", "createdAt": ISO8601DateFormatter().string(from: Date()),
            "debtor": ["name": "Alice Example", "account": ["sortCode": "404142", "accountNumber": "12345678"]],
            "creditor": ["name": "Bob Payee", "account": ["iban": "GB82WEST12345698765432"]],
        ]
        var headers: HTTPFields = [:]
        headers[.authorization] = "Bearer \(key)"
        headers[.contentType] = "application/json"
        return try await client.execute(
            uri: "/v1/payments/score", method: .post, headers: headers,
            body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        ) { $0.status }
    }
}
