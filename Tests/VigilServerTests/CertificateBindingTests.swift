import Crypto
import Foundation
import Testing
import VigilServer

struct CertificateBindingTests {
    static let bankA = TestCertificate(
        subject: [[("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))]],
        sans: [.dns("bank-a.test"), .uri("spiffe://vigil.test/tenant/bank-a"), .email("ops@bank-a.test")]
    )
    static let bankB = TestCertificate(
        subject: [[("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank B"))], [("2.5.4.3", DER.utf8("bank-b-client"))]],
        sans: [.dns("bank-b.test")]
    )

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func eachKindOfBindingMatchesItsCertificateOnly() throws {
        let a = try #require(ClientCertificate(der: Self.bankA.der))
        let b = try #require(ClientCertificate(der: Self.bankB.der))
        let fingerprint = Self.hex(SHA256.hash(data: Self.bankA.der))
        let colons = stride(from: 0, to: 64, by: 2).map { fingerprint.uppercased().dropFirst($0).prefix(2) }.joined(separator: ":")
        let bindings = [
            CertificateBinding(subject: "CN=bank-a-client,O=Bank A,C=GB"),
            CertificateBinding(san: "BANK-A.test"),
            CertificateBinding(san: "spiffe://vigil.test/tenant/bank-a"),
            CertificateBinding(san: "ops@bank-a.test"),
            CertificateBinding(sha256: fingerprint),
            CertificateBinding(sha256: colons),
        ]
        for binding in bindings {
            let matcher = try binding.compiled()
            #expect(matcher.matches(a), "\(binding)")
            #expect(!matcher.matches(b), "\(binding)")
        }
        // URIs and emails compare exactly; only DNS names ignore case.
        #expect(!(try CertificateBinding(san: "SPIFFE://vigil.test/tenant/bank-a").compiled().matches(a)))
        #expect(!(try CertificateBinding(san: "bank-a").compiled().matches(a)))
    }

    @Test func bindsAPEMCertificateByItsFingerprint() throws {
        let binding = try CertificateBinding(certificatePEM: Array(Self.bankA.pem.utf8))
        #expect(binding == CertificateBinding(sha256: Self.hex(SHA256.hash(data: Self.bankA.der))))
        let two = Array((Self.bankA.pem + Self.bankB.pem).utf8)
        #expect(throws: CertificateBinding.Invalid.self) { try CertificateBinding(certificatePEM: two) }
        #expect(throws: CertificateBinding.Invalid.self) { try CertificateBinding(certificatePEM: Array(Self.bankA.keyPEM.utf8)) }
    }

    @Test(arguments: [
        (CertificateBinding(), "needs one of subject, san or sha256"),
        (CertificateBinding(subject: "CN=a", san: "a.test"), "has subject and san"),
        (CertificateBinding(subject: "CN=Secret Person\\"), "subject RDN 1: the value ends in a lone"),
        (CertificateBinding(san: ""), "san must be 1–1024 bytes"),
        (CertificateBinding(san: "Secret Person"), "san must not contain spaces"),
        (CertificateBinding(sha256: "abcd"), "sha256 must be 64 hex digits"),
        (CertificateBinding(sha256: String(repeating: "g", count: 64)), "sha256 must be 64 hex digits"),
    ])
    func refusesBadBindings(_ binding: CertificateBinding, _ expected: String) {
        let error = #expect(throws: CertificateBinding.Invalid.self) { try binding.compiled() }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains("Secret") == false)
    }
}

struct TenantCertificateBindingTests {
    func directory(with configure: (inout [[String: Any]]) -> Void) throws -> TenantDirectory {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "bank-a")
        _ = try directory.create(name: "bank-b")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.path))
        var file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var tenants = try #require(file["tenants"] as? [[String: Any]])
        configure(&tenants)
        file["tenants"] = tenants
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: directory.path))
        return directory
    }

    @Test func tenantsFilesWithoutBindingsStillLoad() throws {
        let table = try directory { _ in }.load()
        #expect(table.byName["bank-a"]?.certificates.isEmpty == true)
        #expect(table.byName["bank-a"]?.config.clientCertificates == nil)
    }

    @Test func loadsAndKeepsBindings() throws {
        let directory = try directory { tenants in
            tenants[0]["clientCertificates"] = [["subject": "CN=bank-a-client,O=Bank A,C=GB"], ["san": "bank-a.test"]]
        }
        let table = try directory.load()
        let a = try #require(ClientCertificate(der: CertificateBindingTests.bankA.der))
        #expect(table.byName["bank-a"]?.certificates.count == 2)
        #expect(table.byName["bank-a"]?.certificates.allSatisfy { $0.matches(a) } == true)
        // A rewrite (here: a new tenant) keeps them.
        _ = try directory.create(name: "bank-c")
        #expect(try directory.load().byName["bank-a"]?.config.clientCertificates?.count == 2)
    }

    @Test func namesTheTenantAndBindingOfABadBinding() throws {
        let directory = try directory { tenants in
            tenants[1]["clientCertificates"] = [["san": "bank-b.test"], ["sha256": "not-a-fingerprint"]]
        }
        let error = #expect(throws: TenantDirectory.Invalid.self) { try directory.load() }
        #expect(error?.description.contains("tenant 'bank-b' clientCertificates[1] sha256 must be 64 hex digits") == true)
    }

    @Test func refusesOneCertificateBoundToTwoTenants() throws {
        let directory = try directory { tenants in
            tenants[0]["clientCertificates"] = [["subject": "CN=shared,O=Group"]]
            tenants[1]["clientCertificates"] = [["subject": "cn=shared, o=Group"]]
        }
        let error = #expect(throws: TenantDirectory.Invalid.self) { try directory.load() }
        #expect(error?.description.contains("tenant 'bank-b' clientCertificates[0] is also bound to tenant 'bank-a'") == true)
    }
}
