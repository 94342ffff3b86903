import Crypto

/// What a connection's client certificate says about its holder, read once per connection after the TLS handshake
/// verified it against `--client-ca`: the subject, the subject alternative names and the SHA-256 fingerprint.
///
/// It may name a person, so none of it is ever logged; only the tenant it is bound to is.
public struct ClientCertificate: Sendable, Equatable {
    /// The certificate's subject.
    public let subject: DistinguishedName
    /// DNS-name SANs, lower-cased (DNS names compare without case).
    public let dnsNames: [String]
    /// URI SANs, as written.
    public let uris: [String]
    /// Email (rfc822Name) SANs, as written.
    public let emails: [String]
    /// SHA-256 of the DER certificate: the `sha256` a binding names, and `openssl x509 -fingerprint -sha256`.
    public let sha256: [UInt8]

    /// Reads a DER-encoded X.509 certificate; nil when it is not one.
    public init?(der: [UInt8]) {
        var outer = DERReader(der[...])
        guard let certificate = outer.next(tag: DERReader.Tag.sequence), outer.isAtEnd else { return nil }
        var parts = certificate.reader
        guard let tbs = parts.next(tag: DERReader.Tag.sequence) else { return nil }
        var fields = tbs.reader
        _ = fields.next(tag: 0xa0)  // version, [0] EXPLICIT, absent for v1
        guard fields.next(tag: DERReader.Tag.integer) != nil,  // serialNumber
            fields.next(tag: DERReader.Tag.sequence) != nil,  // signature algorithm
            fields.next(tag: DERReader.Tag.sequence) != nil,  // issuer
            fields.next(tag: DERReader.Tag.sequence) != nil,  // validity
            let subjectItem = fields.next(tag: DERReader.Tag.sequence),
            let subject = DistinguishedName(der: subjectItem),
            fields.next(tag: DERReader.Tag.sequence) != nil  // subjectPublicKeyInfo
        else { return nil }
        _ = fields.next(tag: 0x81)  // issuerUniqueID
        _ = fields.next(tag: 0x82)  // subjectUniqueID
        var dnsNames: [String] = []
        var uris: [String] = []
        var emails: [String] = []
        if let extensions = fields.next(tag: 0xa3) {
            var wrapper = extensions.reader
            guard let list = wrapper.next(tag: DERReader.Tag.sequence) else { return nil }
            var entries = list.reader
            while !entries.isAtEnd {
                guard let entry = entries.next(tag: DERReader.Tag.sequence) else { return nil }
                var members = entry.reader
                guard let oid = members.next(tag: DERReader.Tag.objectIdentifier) else { return nil }
                _ = members.next(tag: DERReader.Tag.boolean)  // critical
                guard let value = members.next(tag: DERReader.Tag.octetString) else { return nil }
                guard oid.content.elementsEqual(Self.subjectAltNameOID) else { continue }
                var outerNames = value.reader
                guard let names = outerNames.next(tag: DERReader.Tag.sequence) else { return nil }
                var reader = names.reader
                while let name = reader.next() {
                    // GeneralName: rfc822Name [1], dNSName [2] and uniformResourceIdentifier [6] are IA5Strings.
                    guard [0x81, 0x82, 0x86].contains(name.tag) else { continue }
                    guard let text = String(validating: name.content, as: UTF8.self) else { return nil }
                    switch name.tag {
                    case 0x81: emails.append(text)
                    case 0x82: dnsNames.append(Self.lowercasedASCII(text))
                    default: uris.append(text)
                    }
                }
                guard reader.isAtEnd else { return nil }
            }
        }
        self.subject = subject
        self.dnsNames = dnsNames
        self.uris = uris
        self.emails = emails
        self.sha256 = Array(SHA256.hash(data: der))
    }

    /// 2.5.29.17, id-ce-subjectAltName.
    static let subjectAltNameOID: [UInt8] = [0x55, 0x1d, 0x11]

    static func lowercasedASCII(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
