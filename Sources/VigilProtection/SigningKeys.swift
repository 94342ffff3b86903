import Crypto
import Foundation
import VigilDomain

/// The JWS algorithms Vigil signs tokens with (RFC 7518 §3.4, RFC 8037 §3.1). Anything else, `none` and the
/// HMAC family included, is refused.
public enum SigningAlgorithm: String, Sendable, CaseIterable, Codable {
    /// ECDSA on P-256 with SHA-256; the signature is `r ‖ s`, 32 bytes each.
    case es256 = "ES256"
    /// Ed25519.
    case edDSA = "EdDSA"

    /// The length of a raw public key.
    var publicKeyByteCount: Int {
        switch self {
        case .es256: 64
        case .edDSA: 32
        }
    }
}

/// A public key that checks token signatures: all the server ever holds of a signing key.
public struct VerificationKey: Sendable, Equatable {
    /// The key's id: its RFC 7638 JWK thumbprint (SHA-256, base64url), so the id cannot name another key.
    public let kid: String
    public let algorithm: SigningAlgorithm
    /// When the key was made, in seconds since 1970.
    public let created: Int64
    /// The raw public key: `x ‖ y` for P-256, the 32-byte point for Ed25519.
    public let publicKey: [UInt8]
    let box: PublicKeyBox

    /// A key from its raw public bytes.
    ///
    /// - Throws: `KeyError.malformed` when the bytes are not a point on the algorithm's curve.
    public init(algorithm: SigningAlgorithm, publicKey: [UInt8], created: Int64) throws(KeyError) {
        guard publicKey.count == algorithm.publicKeyByteCount else {
            throw KeyError(.malformed, "an \(algorithm.rawValue) public key has \(algorithm.publicKeyByteCount) bytes, not \(publicKey.count)")
        }
        do {
            switch algorithm {
            case .es256: box = PublicKeyBox(.p256(try P256.Signing.PublicKey(rawRepresentation: publicKey)))
            case .edDSA: box = PublicKeyBox(.ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)))
            }
        } catch {
            throw KeyError(.malformed, "the bytes are not an \(algorithm.rawValue) public key")
        }
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.created = created
        self.kid = Self.thumbprint(algorithm: algorithm, publicKey: publicKey)
    }

    /// Whether `signature` (in its JWS form) signs `data` under this key.
    func isValidSignature(_ signature: [UInt8], for data: some DataProtocol) -> Bool {
        switch box.key {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: data)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        }
    }

    /// RFC 7638: SHA-256 of the required JWK members in lexical order, without whitespace.
    static func thumbprint(algorithm: SigningAlgorithm, publicKey: [UInt8]) -> String {
        let jwk: String
        switch algorithm {
        case .es256:
            let x = Base64URL.encode(publicKey[0..<32])
            let y = Base64URL.encode(publicKey[32..<64])
            jwk = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        case .edDSA:
            jwk = #"{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(publicKey))"}"#
        }
        return SHA256.hash(data: Array(jwk.utf8)).withUnsafeBytes { Base64URL.encode($0) }
    }

    public static func == (lhs: VerificationKey, rhs: VerificationKey) -> Bool {
        lhs.algorithm == rhs.algorithm && lhs.publicKey == rhs.publicKey && lhs.created == rhs.created
    }
}

/// A private key that signs tokens. Only `vigil tenant token` holds one, for as long as it takes to sign.
public struct SigningKey: Sendable {
    /// The public half, with the key's id and algorithm.
    public let verificationKey: VerificationKey
    let box: PrivateKeyBox

    public var kid: String { verificationKey.kid }
    public var algorithm: SigningAlgorithm { verificationKey.algorithm }

    /// A fresh key from the system's CSPRNG.
    public static func generate(_ algorithm: SigningAlgorithm, created: Int64) -> SigningKey {
        switch algorithm {
        case .es256:
            let key = P256.Signing.PrivateKey()
            // A key swift-crypto has just made is a valid point.
            return SigningKey(
                verificationKey: try! VerificationKey(algorithm: algorithm, publicKey: Array(key.publicKey.rawRepresentation), created: created),
                box: PrivateKeyBox(.p256(key))
            )
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            return SigningKey(
                verificationKey: try! VerificationKey(algorithm: algorithm, publicKey: Array(key.publicKey.rawRepresentation), created: created),
                box: PrivateKeyBox(.ed25519(key))
            )
        }
    }

    /// A key from its raw private bytes (the P-256 scalar or the Ed25519 seed) and its stored public half,
    /// which must match.
    init(verificationKey: VerificationKey, privateKey: [UInt8]) throws(KeyError) {
        let derived: [UInt8]
        let box: PrivateKeyBox
        do {
            switch verificationKey.algorithm {
            case .es256:
                let key = try P256.Signing.PrivateKey(rawRepresentation: privateKey)
                derived = Array(key.publicKey.rawRepresentation)
                box = PrivateKeyBox(.p256(key))
            case .edDSA:
                let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)
                derived = Array(key.publicKey.rawRepresentation)
                box = PrivateKeyBox(.ed25519(key))
            }
        } catch {
            throw KeyError(.malformed, "signing key \(verificationKey.kid) is not an \(verificationKey.algorithm.rawValue) private key")
        }
        guard derived == verificationKey.publicKey else {
            throw KeyError(.malformed, "signing key \(verificationKey.kid): the private key does not match the stored public key")
        }
        self.verificationKey = verificationKey
        self.box = box
    }

    private init(verificationKey: VerificationKey, box: PrivateKeyBox) {
        self.verificationKey = verificationKey
        self.box = box
    }

    /// The raw private bytes, for wrapping under the master key.
    var privateKeyBytes: [UInt8] {
        switch box.key {
        case .p256(let key): Array(key.rawRepresentation)
        case .ed25519(let key): Array(key.rawRepresentation)
        }
    }

    /// The JWS signature of `data`: `r ‖ s` for ES256 (RFC 7518 §3.4), the 64-byte Ed25519 signature for EdDSA.
    func signature(for data: [UInt8]) throws(KeyError) -> [UInt8] {
        do {
            switch box.key {
            case .p256(let key): return Array(try key.signature(for: data).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: data))
            }
        } catch {
            throw KeyError(.cannotSign, "signing key \(kid) could not sign")
        }
    }
}

extension KeyError.Code {
    /// The crypto library refused to sign.
    public static let cannotSign = Self(value: "cannot-sign")
}

/// Holds an immutable public key so it can be shared across tasks.
final class PublicKeyBox: @unchecked Sendable {
    // swift-crypto 3 keys are immutable values wrapping their bytes; they are just not marked Sendable.
    enum Key {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    let key: Key

    init(_ key: Key) {
        self.key = key
    }
}

/// Holds an immutable private key so it can be shared across tasks.
final class PrivateKeyBox: @unchecked Sendable {
    // As for `PublicKeyBox`.
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let key: Key

    init(_ key: Key) {
        self.key = key
    }
}
