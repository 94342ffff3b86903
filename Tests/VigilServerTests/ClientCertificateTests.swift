import Crypto
import Testing
import VigilServer

struct ClientCertificateTests {
    @Test func readsSubjectSANsAndFingerprint() throws {
        let made = TestCertificate(
            subject: [[("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))]],
            sans: [.dns("Bank-A.Test"), .uri("spiffe://vigil.test/tenant/bank-a"), .email("ops@bank-a.test"), .ip([127, 0, 0, 1])]
        )
        let certificate = try #require(ClientCertificate(der: made.der))
        #expect(certificate.subject.description == "CN=bank-a-client,O=Bank A")
        #expect(certificate.dnsNames == ["bank-a.test"])
        #expect(certificate.uris == ["spiffe://vigil.test/tenant/bank-a"])
        #expect(certificate.emails == ["ops@bank-a.test"])
        #expect(certificate.sha256 == Array(SHA256.hash(data: made.der)))
    }

    @Test func aCertificateWithoutExtensionsHasNoSANs() throws {
        let certificate = try #require(ClientCertificate(der: TestCertificate(subject: [[("2.5.4.3", DER.utf8("x"))]]).der))
        #expect(certificate.dnsNames.isEmpty && certificate.uris.isEmpty && certificate.emails.isEmpty)
    }

    @Test func refusesWhatIsNotACertificate() throws {
        let der = TestCertificate(subject: [[("2.5.4.3", DER.utf8("x"))]], sans: [.dns("a.test")]).der
        #expect(ClientCertificate(der: []) == nil)
        #expect(ClientCertificate(der: Array(der.dropLast())) == nil)
        #expect(ClientCertificate(der: der + [0]) == nil)
        // Indefinite length is BER, not DER.
        #expect(ClientCertificate(der: [0x30, 0x80] + der + [0, 0]) == nil)
        // A length running past the end.
        #expect(ClientCertificate(der: [0x30, 0x84, 0xff, 0xff, 0xff, 0xff] + der) == nil)
        #expect(ClientCertificate(der: DER.sequence(DER.sequence(DER.tlv(0x02, [1])))) == nil)
        // A SAN that is not UTF-8.
        let badSAN = TestCertificate(subject: [[("2.5.4.3", DER.utf8("x"))]], sans: [.dns("a.test")])
        var bytes = badSAN.der
        let index = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("a.test".utf8)) })
        bytes[index] = 0xff
        #expect(ClientCertificate(der: bytes) == nil)
    }
}
