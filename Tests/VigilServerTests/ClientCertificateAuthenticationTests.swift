import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VigilServer

/// The responder's side of mutual TLS: a tenant's credential counts only with a client certificate bound to it.
/// The handshake's side (no certificate, a rogue CA, an expired certificate) is `Tests/blackbox/tls_edge.py`.
struct ClientCertificateAuthenticationTests {
    let bankA = CertificateBindingTests.bankA
    let bankB = CertificateBindingTests.bankB

    /// Tenants bank-a (bound by subject), bank-b (bound by SAN) and bank-c (unbound), with their keys.
    func tenants(in data: String) throws -> [String: String] {
        let directory = TenantDirectory(dataDirectory: data)
        var keys: [String: String] = [:]
        for name in ["bank-a", "bank-b", "bank-c"] { keys[name] = try directory.create(name: name) }
        try directory.update { configs in
            configs[0].clientCertificates = [CertificateBinding(subject: "CN=bank-a-client,O=Bank A,C=GB")]
            configs[1].clientCertificates = [CertificateBinding(san: "bank-b.test")]
        }
        return keys
    }

    func withServer<T: Sendable>(
        clientCA: Bool, _ body: @Sendable (any TestClientProtocol, [String: String]) async throws -> T
    ) async throws -> T {
        let data = temporaryDataDirectory()
        let keys = try tenants(in: data)
        var configuration = VigilConfiguration()
        configuration.dataDirectory = data
        configuration.port = 0
        if clientCA {
            let files = try ServerTLSTests.files().configuration
            configuration.tlsCertificatePath = files.tlsCertificatePath
            configuration.tlsKeyPath = files.tlsKeyPath
            configuration.clientCAPath = files.clientCAPath
        }
        let app = try await buildApplication(configuration: configuration, logger: LogCapture().logger())
        return try await app.test(.router) { client in
            for _ in 0..<500 {
                let status = try await client.execute(uri: "/ready", method: .get) { $0.status }
                if status == .ok { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            return try await body(client, keys)
        }
    }

    func score(_ client: any TestClientProtocol, key: String?, certificate: TestCertificate?) async throws -> (HTTPResponse.Status, [String: Any]) {
        let presented = certificate.flatMap { ClientCertificate(der: $0.der) }
        return try await ClientCertificate.$ofConnection.withValue(presented) {
            try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody())) {
                ($0.status, object($0.body))
            }
        }
    }

    @Test func aBoundCertificateCarriesItsOwnTenantsKeyOnly() async throws {
        try await withServer(clientCA: true) { client, keys in
            #expect(try await score(client, key: keys["bank-a"], certificate: bankA).0 == .ok)
            #expect(try await score(client, key: keys["bank-b"], certificate: bankB).0 == .ok)

            let (status, problem) = try await score(client, key: keys["bank-b"], certificate: bankA)
            #expect(status == .forbidden)
            #expect(problem["type"] as? String == "urn:vigil:problem:client-certificate-mismatch")
            #expect((problem["detail"] as? String)?.contains("bank-a-client") == false)
            #expect(try await score(client, key: keys["bank-a"], certificate: bankB).1["type"] as? String
                == "urn:vigil:problem:client-certificate-mismatch")
            // A tenant with no bindings is not reachable with some other tenant's certificate either.
            #expect(try await score(client, key: keys["bank-c"], certificate: bankA).0 == .forbidden)
            // The credential is still checked first.
            #expect(try await score(client, key: "vgl_not-a-key", certificate: bankA).0 == .unauthorized)
        }
    }

    @Test func aBoundTenantIsRefusedWithoutACertificate() async throws {
        for clientCA in [false, true] {
            try await withServer(clientCA: clientCA) { client, keys in
                let (status, problem) = try await score(client, key: keys["bank-a"], certificate: nil)
                #expect(status == .forbidden)
                #expect(problem["type"] as? String == "urn:vigil:problem:client-certificate-required")
                if !clientCA {
                    // Without --client-ca, no certificate is read, whatever the connection carries.
                    #expect(try await score(client, key: keys["bank-a"], certificate: bankA).0 == .forbidden)
                    #expect(try await score(client, key: keys["bank-c"], certificate: nil).0 == .ok)
                }
            }
        }
    }
}
