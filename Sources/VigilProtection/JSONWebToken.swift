import Crypto
import Foundation
import Synchronization
import VigilJSON

/// Why a bearer token was refused. Messages name the failed check, never a value from the token.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        /// Not three base64url parts of JSON objects, too long, or a header or claim of the wrong type.
        public static let malformed = Code(value: "malformed")
        /// `alg` is not one Vigil signs with (`none`, the HMAC family, anything unknown).
        public static let unsupportedAlgorithm = Code(value: "unsupported-algorithm")
        /// `alg` is supported but is not the algorithm of the key `kid` names (algorithm confusion).
        public static let algorithmMismatch = Code(value: "algorithm-mismatch")
        /// `kid` names no key the verifier holds: never issued, or retired after a rotation.
        public static let unknownKey = Code(value: "unknown-key")
        /// The signature does not verify: the header, the claims or the signature were altered.
        public static let badSignature = Code(value: "bad-signature")
        /// The `kid` claim differs from the header's `kid`.
        public static let keyIDMismatch = Code(value: "kid-mismatch")
        /// A required claim is absent.
        public static let missingClaim = Code(value: "missing-claim")
        public static let wrongIssuer = Code(value: "wrong-issuer")
        public static let wrongAudience = Code(value: "wrong-audience")
        /// `exp` has passed, beyond the allowed clock skew.
        public static let expired = Code(value: "expired")
        /// `iat` lies in the future, beyond the allowed clock skew.
        public static let issuedInFuture = Code(value: "issued-in-future")
        /// `nbf` lies in the future, beyond the allowed clock skew.
        public static let notYetValid = Code(value: "not-yet-valid")
        /// `exp − iat` exceeds the longest lifetime Vigil issues.
        public static let lifetimeTooLong = Code(value: "lifetime-too-long")

        public var description: String { value }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The claims of a Vigil token (RFC 7519 §4.1), all required but `nbf`.
public struct TokenClaims: Sendable, Equatable {
    /// `iss`: who issued the token.
    public var issuer: String
    /// `aud`: who may accept it; one string when issued by Vigil, a string or an array when verified.
    public var audience: [String]
    /// `sub`: the tenant's name.
    public var subject: String
    /// `iat`, seconds since 1970.
    public var issuedAt: Int64
    /// `exp`, seconds since 1970.
    public var expiresAt: Int64
    /// `nbf`, seconds since 1970, when present.
    public var notBefore: Int64?
    /// `jti`: 128 random bits, base64url.
    public var id: String
    /// `kid`: the signing key's id, also in the header.
    public var keyID: String

    public init(
        issuer: String, audience: [String], subject: String, issuedAt: Int64, expiresAt: Int64, notBefore: Int64? = nil,
        id: String, keyID: String
    ) {
        self.issuer = issuer
        self.audience = audience
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.id = id
        self.keyID = keyID
    }

    /// A fresh random `jti`.
    public static func newID() -> String {
        SymmetricKey(size: .bits128).withUnsafeBytes { Base64URL.encode($0) }
    }
}

/// JWS compact serialisation (RFC 7515 §7.1) of Vigil's signed, short-lived tokens.
public enum JSONWebToken {
    /// Longest token accepted, in bytes. Vigil's own tokens are about 400.
    public static let maximumByteCount = 4096
    /// Longest lifetime (`exp − iat`) issued or accepted. A retired signing key is kept this long plus
    /// ``maximumClockSkewSeconds`` after its successor appears, so every token it signed can expire first.
    public static let maximumLifetimeSeconds: Int64 = 24 * 3600
    /// Largest clock skew a verifier may allow.
    public static let maximumClockSkewSeconds: Int64 = 300

    /// Signs `claims` with `key`; the header is `{"alg","typ":"JWT","kid"}`.
    public static func issue(_ claims: TokenClaims, key: SigningKey) throws(KeyError) -> String {
        var header = JSONWriter()
        header.beginObject()
        header.key("alg")
        header.string(key.algorithm.rawValue)
        header.key("typ")
        header.string("JWT")
        header.key("kid")
        header.string(key.kid)
        header.endObject()

        var payload = JSONWriter()
        payload.beginObject()
        payload.key("iss")
        payload.string(claims.issuer)
        payload.key("aud")
        if claims.audience.count == 1 {
            payload.string(claims.audience[0])
        } else {
            payload.beginArray()
            for audience in claims.audience { payload.string(audience) }
            payload.endArray()
        }
        payload.key("sub")
        payload.string(claims.subject)
        payload.key("iat")
        payload.int(claims.issuedAt)
        payload.key("exp")
        payload.int(claims.expiresAt)
        if let notBefore = claims.notBefore {
            payload.key("nbf")
            payload.int(notBefore)
        }
        payload.key("jti")
        payload.string(claims.id)
        payload.key("kid")
        payload.string(claims.keyID)
        payload.endObject()
        return try sign(header: header.bytes, payload: payload.bytes, key: key)
    }

    /// `base64url(header) . base64url(payload) . base64url(signature)` for any header and payload bytes.
    static func sign(header: [UInt8], payload: [UInt8], key: SigningKey) throws(KeyError) -> String {
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
    }
}

/// Checks tokens against a set of public keys and the service's issuer, audience and clock skew.
///
/// A client sends the same token with every request for its whole lifetime, so a verifier remembers the
/// tokens whose signature and claims it has accepted (by SHA-256 of the token, never the token itself) and
/// then re-checks only the times. A verifier with other keys starts with no memory, so a retired key's tokens
/// are refused at once.
public struct TokenVerifier: Sendable {
    /// What a token must say to be accepted here.
    public struct Policy: Sendable, Equatable {
        public var issuer: String
        public var audience: String
        /// Seconds a clock may be off in either direction; at most ``JSONWebToken/maximumClockSkewSeconds``.
        public var clockSkewSeconds: Int64

        public init(issuer: String, audience: String, clockSkewSeconds: Int64) {
            precondition(
                (0...JSONWebToken.maximumClockSkewSeconds).contains(clockSkewSeconds),
                "clock skew must be between 0 and \(JSONWebToken.maximumClockSkewSeconds) seconds"
            )
            self.issuer = issuer
            self.audience = audience
            self.clockSkewSeconds = clockSkewSeconds
        }
    }

    public let policy: Policy
    let keys: [String: VerificationKey]
    let accepted = AcceptedTokens()

    public init(keys: [VerificationKey], policy: Policy) {
        self.keys = Dictionary(keys.map { ($0.kid, $0) }, uniquingKeysWith: { first, _ in first })
        self.policy = policy
    }

    /// The ids of the keys this verifier accepts.
    public var keyIDs: Set<String> { Set(keys.keys) }

    /// The token's claims once every check has passed.
    ///
    /// Checks, in order: size and shape, the header (`alg`, `typ`, `crit`, `kid`), the signature, then the
    /// claims. Claims are read only once the signature has verified.
    ///
    /// - Parameter now: the current time in seconds since 1970, injected so tests need no clock.
    /// - Performance: a signature check (tens of microseconds) the first time a token is seen; afterwards a
    ///   SHA-256 of the token and a dictionary lookup under a lock.
    public func verify(_ token: some StringProtocol, now: Int64) throws(TokenError) -> TokenClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= JSONWebToken.maximumByteCount else {
            throw TokenError(.malformed, "the token is longer than \(JSONWebToken.maximumByteCount) bytes")
        }
        let digest = TokenDigest(bytes)
        if let claims = accepted.claims(for: digest) {
            try checkTimes(claims, now: now)
            return claims
        }
        let claims = try verifyUncached(bytes, now: now)
        accepted.insert(claims, for: digest, now: now)
        return claims
    }

    private func verifyUncached(_ bytes: [UInt8], now: Int64) throws(TokenError) -> TokenClaims {
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw TokenError(.malformed, "the token is not three dot-separated parts") }
        let headerPart = bytes[..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]

        let header = try object(headerPart, name: "header")
        guard let alg = header["alg"] else { throw TokenError(.malformed, "the header has no alg") }
        guard case .string(let algName) = alg else { throw TokenError(.malformed, "the header's alg is not a string") }
        guard let algorithm = SigningAlgorithm(rawValue: algName) else {
            throw TokenError(.unsupportedAlgorithm, "the header's alg is not ES256 or EdDSA")
        }
        if let typ = header["typ"] {
            // RFC 7515 §4.1.9: compared without regard to case.
            guard case .string(let type) = typ, type.lowercased() == "jwt" else {
                throw TokenError(.malformed, "the header's typ is not JWT")
            }
        }
        guard header["crit"] == nil else {
            // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must refuse the token.
            throw TokenError(.malformed, "the header has crit, and Vigil understands no extensions")
        }
        guard let kidValue = header["kid"] else { throw TokenError(.malformed, "the header has no kid") }
        guard case .string(let kid) = kidValue else { throw TokenError(.malformed, "the header's kid is not a string") }
        guard let key = keys[kid] else { throw TokenError(.unknownKey, "the header's kid names no current signing key") }
        guard key.algorithm == algorithm else {
            throw TokenError(.algorithmMismatch, "the header's alg is not the algorithm of the key its kid names")
        }

        guard let signature = Base64URL.decode(signaturePart) else {
            throw TokenError(.malformed, "the signature is not unpadded base64url")
        }
        guard key.isValidSignature(signature, for: bytes[..<dots[1]]) else {
            throw TokenError(.badSignature, "the signature does not verify")
        }

        let claims = try readClaims(try object(payloadPart, name: "payload"))
        guard claims.keyID == kid else { throw TokenError(.keyIDMismatch, "the kid claim differs from the header's kid") }
        try checkIssuerAndAudience(claims)
        try checkTimes(claims, now: now)
        return claims
    }

    private func object(_ part: ArraySlice<UInt8>, name: String) throws(TokenError) -> JSONValue {
        guard let json = Base64URL.decode(part) else { throw TokenError(.malformed, "the \(name) is not unpadded base64url") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch {
            // The code only (never the message), which may quote a character of the token.
            throw TokenError(.malformed, "the \(name) is not JSON (\(error.code))")
        }
        guard case .object = value else { throw TokenError(.malformed, "the \(name) is not a JSON object") }
        return value
    }

    private func readClaims(_ payload: JSONValue) throws(TokenError) -> TokenClaims {
        func string(_ name: String) throws(TokenError) -> String {
            guard let value = payload[name] else { throw TokenError(.missingClaim, "the token has no \(name) claim") }
            guard case .string(let text) = value, !text.isEmpty else {
                throw TokenError(.malformed, "the \(name) claim is not a non-empty string")
            }
            return text
        }
        func date(_ name: String) throws(TokenError) -> Int64? {
            guard let value = payload[name] else { return nil }
            // RFC 7519 §2 NumericDate: seconds, possibly fractional; whole seconds are enough here.
            guard case .number(let text) = value, let seconds = Double(text), seconds.isFinite,
                  abs(seconds) < 1e15
            else {
                throw TokenError(.malformed, "the \(name) claim is not a NumericDate")
            }
            return Int64(seconds.rounded(.down))
        }
        func requiredDate(_ name: String) throws(TokenError) -> Int64 {
            guard let seconds = try date(name) else { throw TokenError(.missingClaim, "the token has no \(name) claim") }
            return seconds
        }

        let audience: [String]
        switch payload["aud"] {
        case nil:
            throw TokenError(.missingClaim, "the token has no aud claim")
        case .string(let single):
            audience = [single]
        case .array(let values):
            // RFC 7519 §4.1.3: an array of strings.
            var strings: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw TokenError(.malformed, "the aud claim holds a non-string") }
                strings.append(text)
            }
            audience = strings
        case .some:
            throw TokenError(.malformed, "the aud claim is not a string or an array of strings")
        }
        return TokenClaims(
            issuer: try string("iss"), audience: audience, subject: try string("sub"), issuedAt: try requiredDate("iat"),
            expiresAt: try requiredDate("exp"), notBefore: try date("nbf"), id: try string("jti"), keyID: try string("kid")
        )
    }

    private func checkIssuerAndAudience(_ claims: TokenClaims) throws(TokenError) {
        guard claims.issuer == policy.issuer else { throw TokenError(.wrongIssuer, "the token was issued by another issuer") }
        guard claims.audience.contains(policy.audience) else {
            throw TokenError(.wrongAudience, "the token's audience does not include this service")
        }
    }

    /// The checks that depend on the time, run again on every use of an accepted token.
    private func checkTimes(_ claims: TokenClaims, now: Int64) throws(TokenError) {
        let skew = policy.clockSkewSeconds
        // RFC 7519 §4.1.4: the current time must be before exp; the skew gives a slow clock some room.
        guard now < claims.expiresAt + skew else { throw TokenError(.expired, "the token has expired") }
        guard claims.issuedAt <= now + skew else {
            throw TokenError(.issuedInFuture, "the token's iat is in the future beyond the allowed clock skew")
        }
        if let notBefore = claims.notBefore, notBefore > now + skew {
            throw TokenError(.notYetValid, "the token's nbf is in the future beyond the allowed clock skew")
        }
        guard claims.expiresAt - claims.issuedAt <= JSONWebToken.maximumLifetimeSeconds else {
            throw TokenError(
                .lifetimeTooLong, "the token's lifetime (exp − iat) exceeds \(JSONWebToken.maximumLifetimeSeconds / 3600) hours"
            )
        }
    }
}

/// SHA-256 of a token: how accepted tokens are remembered without keeping a usable credential in memory.
struct TokenDigest: Hashable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ token: [UInt8]) {
        words = SHA256.hash(data: token).withUnsafeBytes { raw in
            (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }

    static func == (lhs: TokenDigest, rhs: TokenDigest) -> Bool { lhs.words == rhs.words }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// The claims of tokens one verifier has accepted, by digest; bounded, expired entries dropped first.
final class AcceptedTokens: Sendable {
    /// Tokens remembered at most: a few hundred bytes each.
    static let capacity = 10_000

    private let entries = Mutex<[TokenDigest: TokenClaims]>([:])

    var count: Int { entries.withLock { $0.count } }

    func claims(for digest: TokenDigest) -> TokenClaims? {
        entries.withLock { $0[digest] }
    }

    func insert(_ claims: TokenClaims, for digest: TokenDigest, now: Int64) {
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                // Full of live tokens: start again rather than grow; each is verified once more.
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[digest] = claims
        }
    }
}
