import Crypto
import Foundation

/// DER building blocks, for certificates made in memory by the tests.
enum DER {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            var octets: [UInt8] = []
            var n = content.count
            while n > 0 {
                octets.insert(UInt8(n & 0xff), at: 0)
                n >>= 8
            }
            length = [0x80 | UInt8(octets.count)] + octets
        }
        return [tag] + length + content
    }

    static func sequence(_ items: [UInt8]...) -> [UInt8] { tlv(0x30, items.flatMap { $0 }) }
    static func set(_ items: [UInt8]...) -> [UInt8] { tlv(0x31, items.flatMap { $0 }) }

    static func oid(_ dotted: String) -> [UInt8] {
        let arcs = dotted.split(separator: ".").map { UInt64($0)! }
        var out: [UInt8] = []
        for arc in [arcs[0] * 40 + arcs[1]] + arcs.dropFirst(2) {
            var groups: [UInt8] = [UInt8(arc & 0x7f)]
            var rest = arc >> 7
            while rest > 0 {
                groups.append(UInt8(rest & 0x7f) | 0x80)
                rest >>= 7
            }
            out += groups.reversed()
        }
        return tlv(0x06, out)
    }

    static func utf8(_ text: String) -> [UInt8] { tlv(0x0c, Array(text.utf8)) }
    static func printable(_ text: String) -> [UInt8] { tlv(0x13, Array(text.utf8)) }
    static func bmp(_ text: String) -> [UInt8] { tlv(0x1e, text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }) }

    /// A Name: RDNs in encoding order, each a list of (OID, encoded value).
    static func name(_ rdns: [[(String, [UInt8])]]) -> [UInt8] {
        tlv(0x30, rdns.flatMap { rdn in tlv(0x31, rdn.flatMap { sequence(oid($0.0), $0.1) }) })
    }
}

/// A certificate made in memory: an ECDSA P-256 key, signed by itself or by an issuer.
struct TestCertificate: Sendable {
    /// The private key's raw scalar (the key type itself is not `Sendable`).
    let keyBytes: [UInt8]
    let der: [UInt8]
    let subject: [UInt8]

    enum SAN: Sendable {
        case dns(String), uri(String), email(String), ip([UInt8])
    }

    /// - Parameters:
    ///   - subject: the subject Name's RDNs in encoding order.
    ///   - notAfter: UTCTime, `YYMMDDHHMMSSZ`.
    init(
        subject: [[(String, [UInt8])]], sans: [SAN] = [], issuer: TestCertificate? = nil, isCA: Bool = false,
        notBefore: String = "200101000000Z", notAfter: String = "491231235959Z"
    ) {
        let key = P256.Signing.PrivateKey()
        keyBytes = Array(key.rawRepresentation)
        self.subject = DER.name(subject)
        let algorithm = DER.sequence(DER.oid("1.2.840.10045.4.3.2"))
        var extensions: [UInt8] = []
        if !sans.isEmpty {
            let names = sans.flatMap { san -> [UInt8] in
                switch san {
                case .email(let text): DER.tlv(0x81, Array(text.utf8))
                case .dns(let text): DER.tlv(0x82, Array(text.utf8))
                case .uri(let text): DER.tlv(0x86, Array(text.utf8))
                case .ip(let bytes): DER.tlv(0x87, bytes)
                }
            }
            extensions += DER.sequence(DER.oid("2.5.29.17"), DER.tlv(0x04, DER.tlv(0x30, names)))
        }
        if isCA {
            extensions += DER.sequence(DER.oid("2.5.29.19"), DER.tlv(0x01, [0xff]), DER.tlv(0x04, DER.sequence(DER.tlv(0x01, [0xff]))))
        }
        let tbs = DER.sequence(
            DER.tlv(0xa0, DER.tlv(0x02, [2])),
            DER.tlv(0x02, [0x01] + (0..<8).map { _ in UInt8.random(in: 0...255) }),
            algorithm,
            issuer?.subject ?? self.subject,
            DER.sequence(DER.tlv(0x17, Array(notBefore.utf8)), DER.tlv(0x17, Array(notAfter.utf8))),
            self.subject,
            Array(key.publicKey.derRepresentation),
            extensions.isEmpty ? [] : DER.tlv(0xa3, DER.tlv(0x30, extensions))
        )
        let signer = issuer?.key ?? key
        let signature = try! signer.signature(for: tbs).derRepresentation
        der = DER.sequence(tbs, algorithm, DER.tlv(0x03, [0] + Array(signature)))
    }

    var pem: String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }

    var key: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(rawRepresentation: keyBytes) }

    var keyPEM: String { key.pemRepresentation + "\n" }

    /// Writes `name.pem` and `name.key` into `directory` and returns their paths.
    func write(to directory: String, name: String) throws -> (certificate: String, key: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let paths = (directory + "/\(name).pem", directory + "/\(name).key")
        try pem.write(toFile: paths.0, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: paths.1, atomically: true, encoding: .utf8)
        return paths
    }
}
