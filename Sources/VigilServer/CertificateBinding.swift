import Crypto
import NIOSSL

/// One client certificate a tenant accepts, as written in `tenants.json` under `clientCertificates`: exactly one
/// of `subject`, `san` or `sha256`.
///
/// - `subject`: the certificate's subject as an RFC 4514 string, most specific part first, e.g.
///   `CN=bank-a-client,O=Bank A,C=GB` (see `DistinguishedName`; `openssl x509 -noout -subject -nameopt RFC2253`
///   prints it).
/// - `san`: one of the certificate's subject alternative names: a DNS name (any case), a URI or an email address,
///   exactly as in the certificate; wildcards are not expanded.
/// - `sha256`: the SHA-256 fingerprint of the DER certificate, 64 hex digits, colons allowed
///   (`openssl x509 -noout -fingerprint -sha256`).
///
/// When a request comes over a connection with a client certificate, the certificate must match one of the
/// tenant's bindings; a tenant with bindings is refused over a connection without one.
public struct CertificateBinding: Sendable, Codable, Equatable {
    public var subject: String?
    public var san: String?
    public var sha256: String?

    public init(subject: String? = nil, san: String? = nil, sha256: String? = nil) {
        self.subject = subject
        self.san = san
        self.sha256 = sha256
    }

    /// A binding to the certificate in a PEM file, by its SHA-256 fingerprint.
    /// - Throws: `Invalid` unless the file holds exactly one certificate.
    public init(certificatePEM pem: [UInt8]) throws(Invalid) {
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(pem), !certificates.isEmpty else {
            throw Invalid(description: "the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        guard certificates.count == 1 else {
            throw Invalid(description: "the file holds \(certificates.count) certificates; give the client's certificate alone")
        }
        guard let der = try? certificates[0].toDERBytes() else { throw Invalid(description: "the certificate cannot be encoded") }
        self.init(sha256: DistinguishedName.hex(Array(SHA256.hash(data: der))))
    }

    /// A binding that cannot be used; says which field and why, never repeats its value.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Checks the binding and turns it into the form requests are matched against.
    public func compiled() throws(Invalid) -> CertificateMatcher {
        let given = [subject.map { _ in "subject" }, san.map { _ in "san" }, sha256.map { _ in "sha256" }].compactMap { $0 }
        guard given.count == 1 else {
            throw Invalid(description: given.isEmpty
                ? "needs one of subject, san or sha256"
                : "has \(given.joined(separator: " and ")); give exactly one of subject, san or sha256 per binding")
        }
        if let subject {
            do {
                return .subject(try DistinguishedName(parsing: subject))
            } catch {
                throw Invalid(description: "subject \(error.description)")
            }
        }
        if let san {
            guard !san.isEmpty, san.utf8.count <= 1024 else { throw Invalid(description: "san must be 1–1024 bytes") }
            guard san.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x21 && $0.value != 0x7f }) else {
                throw Invalid(description: "san must not contain spaces or control characters")
            }
            return .san(san)
        }
        let digits = Array((sha256 ?? "").utf8.filter { $0 != UInt8(ascii: ":") })
        guard digits.count == 64, let fingerprint = DistinguishedName.decodeHex(digits) else {
            throw Invalid(description: "sha256 must be 64 hex digits (colons between pairs allowed)")
        }
        return .sha256(fingerprint)
    }
}

/// A checked `CertificateBinding`, matched against each connection's client certificate.
public enum CertificateMatcher: Sendable, Equatable {
    case subject(DistinguishedName)
    case san(String)
    case sha256([UInt8])

    /// Whether `certificate` is the one this binding names.
    public func matches(_ certificate: ClientCertificate) -> Bool {
        switch self {
        case .subject(let name):
            return name.matches(certificate.subject)
        case .san(let value):
            // The certificate's DNS names are lower-cased already; this side is folded as it is compared, not copied.
            let isDNSName = { (name: String) in name.utf8.elementsEqual(value.utf8) { $0 == ($1 >= 65 && $1 <= 90 ? $1 + 32 : $1) } }
            return certificate.dnsNames.contains(where: isDNSName) || certificate.uris.contains(value)
                || certificate.emails.contains(value)
        case .sha256(let fingerprint):
            return certificate.sha256 == fingerprint
        }
    }

    /// One spelling per binding, so that the same certificate bound to two tenants is caught.
    var canonical: String {
        switch self {
        case .subject(let name): "subject:" + name.description
        case .san(let value): "san:" + ClientCertificate.lowercasedASCII(value)
        case .sha256(let fingerprint): "sha256:" + DistinguishedName.hex(fingerprint)
        }
    }
}
