import Crypto
import Foundation
import Testing
import VigilJSON
@testable import VigilProtection

/// One key, a verifier holding it and a clock fixed at `now`.
private struct Fixture {
    static let now: Int64 = 1_780_000_000
    let key: SigningKey
    let verifier: TokenVerifier

    init(_ algorithm: SigningAlgorithm = .es256, skew: Int64 = 30) {
        key = SigningKey.generate(algorithm, created: Self.now - 100)
        verifier = TokenVerifier(
            keys: [key.verificationKey], policy: .init(issuer: "vigil", audience: "vigil-api", clockSkewSeconds: skew)
        )
    }

    func claims(subject: String = "demo", issuedAt: Int64 = now, lifetime: Int64 = 900) -> TokenClaims {
        TokenClaims(
            issuer: "vigil", audience: ["vigil-api"], subject: subject, issuedAt: issuedAt, expiresAt: issuedAt + lifetime,
            id: TokenClaims.newID(), keyID: key.kid
        )
    }

    func token(_ claims: TokenClaims? = nil) throws -> String {
        try JSONWebToken.issue(claims ?? self.claims(), key: key)
    }

    /// A token of exactly these header and payload members, properly signed.
    func signed(header: [String: Any], payload: [String: Any]) throws -> String {
        try JSONWebToken.sign(
            header: Array(try JSONSerialization.data(withJSONObject: header)),
            payload: Array(try JSONSerialization.data(withJSONObject: payload)), key: key
        )
    }

    var header: [String: Any] { ["alg": key.algorithm.rawValue, "typ": "JWT", "kid": key.kid] }

    var payload: [String: Any] {
        ["iss": "vigil", "aud": "vigil-api", "sub": "demo", "iat": Self.now, "exp": Self.now + 900, "jti": "abc", "kid": key.kid]
    }

    func verify(_ token: String, now: Int64 = now) throws(TokenError) -> TokenClaims {
        try verifier.verify(token, now: now)
    }

    /// The code `verify` fails with, or nil if it accepts.
    func refusal(_ token: String, now: Int64 = now) -> TokenError.Code? {
        do {
            _ = try verify(token, now: now)
            return nil
        } catch {
            return error.code
        }
    }
}

private func decodedPart(_ token: String, _ index: Int) -> [UInt8] {
    Base64URL.decode(Array(token.split(separator: ".", omittingEmptySubsequences: false)[index].utf8)) ?? []
}

private func parts(_ token: String) -> [String] {
    token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
}

struct JSONWebTokenTests {
    // MARK: - Round trips

    @Test(arguments: SigningAlgorithm.allCases)
    func aTokenRoundTrips(algorithm: SigningAlgorithm) throws {
        let fixture = Fixture(algorithm)
        let claims = fixture.claims()
        let token = try fixture.token(claims)
        #expect(try fixture.verify(token) == claims)
        #expect(parts(token).count == 3)
        // RFC 7518 §3.4: ES256 is r ‖ s, 64 bytes, not DER; Ed25519 signatures are 64 bytes too.
        #expect(decodedPart(token, 2).count == 64)
        let header = try JSONParser.parse(decodedPart(token, 0))
        #expect(
            header == .object([
                .init(key: "alg", value: .string(algorithm.rawValue)), .init(key: "typ", value: .string("JWT")),
                .init(key: "kid", value: .string(fixture.key.kid)),
            ])
        )
        let payload = try JSONParser.parse(decodedPart(token, 1))
        for name in ["iss", "aud", "sub", "exp", "iat", "jti", "kid"] {
            #expect(payload[name] != nil, "claim \(name)")
        }
    }

    @Test func everyTokenHasAFresh128BitID() throws {
        let fixture = Fixture()
        let a = fixture.claims().id
        #expect(a != fixture.claims().id)
        #expect(Base64URL.decode(Array(a.utf8))?.count == 16)
    }

    /// An ES256 signature made elsewhere (swift-crypto's own ECDSA over SHA-256, serialised as r ‖ s) verifies:
    /// the JWS signing input is exactly `header.payload`.
    @Test func anES256SignatureIsOverTheSigningInput() throws {
        let fixture = Fixture(.es256)
        let token = try fixture.signed(header: fixture.header, payload: fixture.payload)
        let input = parts(token)[0] + "." + parts(token)[1]
        let key = try P256.Signing.PublicKey(rawRepresentation: fixture.key.verificationKey.publicKey)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: decodedPart(token, 2))
        #expect(key.isValidSignature(signature, for: Array(input.utf8)))
    }

    @Test func anAudienceArrayIsAcceptedWhenItNamesThisService() throws {
        let fixture = Fixture()
        var claims = fixture.claims()
        claims.audience = ["other", "vigil-api"]
        #expect(try fixture.verify(try fixture.token(claims)).audience == ["other", "vigil-api"])
        var payload = fixture.payload
        payload["aud"] = ["other", "another"]
        #expect(fixture.refusal(try fixture.signed(header: fixture.header, payload: payload)) == .wrongAudience)
        payload["aud"] = [] as [String]
        #expect(fixture.refusal(try fixture.signed(header: fixture.header, payload: payload)) == .wrongAudience)
        payload["aud"] = ["vigil-api", 7]
        #expect(fixture.refusal(try fixture.signed(header: fixture.header, payload: payload)) == .malformed)
    }

    // MARK: - Malformed

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "..", "a..c"])
    func aTokenThatIsNotThreePartsIsMalformed(token: String) {
        #expect(Fixture().refusal(token) == .malformed)
    }

    @Test func paddedBase64URLIsMalformed() throws {
        let fixture = Fixture()
        // `=` is not in the alphabet, whether or not the part's length would call for padding; nor are `+` and `/`.
        let token = try fixture.token()
        var pieces = parts(token)
        pieces[0] += "=="
        #expect(fixture.refusal(pieces.joined(separator: ".")) == .malformed)
        pieces = parts(token)
        pieces[2] = pieces[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+"
        #expect(fixture.refusal(pieces.joined(separator: ".")) == .malformed)
    }

    @Test func aHeaderThatIsNotAJSONObjectIsMalformed() throws {
        let fixture = Fixture()
        let rest = parts(try fixture.token()).dropFirst().joined(separator: ".")
        for header in ["not json", "[1,2]", #""alg""#, #"{"alg":"ES256","alg":"ES256","kid":"x"}"#] {
            let token = Base64URL.encode(Array(header.utf8)) + "." + rest
            let error = #expect(throws: TokenError.self) { try fixture.verify(token) }
            #expect(error?.code == .malformed, "header \(header)")
        }
    }

    @Test func aSignedPayloadThatIsNotAJSONObjectIsMalformed() throws {
        let fixture = Fixture()
        let header = Array(try JSONSerialization.data(withJSONObject: fixture.header))
        for payload in ["[]", "{", "\"claims\""] {
            let token = try JSONWebToken.sign(header: header, payload: Array(payload.utf8), key: fixture.key)
            #expect(fixture.refusal(token) == .malformed, "payload \(payload)")
        }
        // VigilJSON refuses a repeated key, so `sub` cannot say one thing to one parser and another to the next.
        let twice = #"{"iss":"vigil","aud":"vigil-api","sub":"demo","sub":"other","iat":1,"exp":2,"jti":"a","kid":"k"}"#
        let token = try JSONWebToken.sign(header: header, payload: Array(twice.utf8), key: fixture.key)
        let error = #expect(throws: TokenError.self) { try fixture.verify(token) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("key appears twice") == true)
    }

    @Test func aTokenOverTheSizeLimitIsMalformed() throws {
        let fixture = Fixture()
        var payload = fixture.payload
        payload["pad"] = String(repeating: "x", count: JSONWebToken.maximumByteCount)
        let error = #expect(throws: TokenError.self) { try fixture.verify(try fixture.signed(header: fixture.header, payload: payload)) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("longer than 4096 bytes") == true)
    }

    @Test func headerMembersOfTheWrongKindAreMalformed() throws {
        let fixture = Fixture()
        let cases: [[String: Any]] = [
            ["typ": "JWT", "kid": fixture.key.kid],
            ["alg": 1, "kid": fixture.key.kid],
            ["alg": "ES256", "typ": "JWT"],
            ["alg": "ES256", "kid": 5],
            ["alg": "ES256", "typ": "JOSE+JSON", "kid": fixture.key.kid],
            ["alg": "ES256", "kid": fixture.key.kid, "crit": ["exp"]],
        ]
        for header in cases {
            #expect(fixture.refusal(try fixture.signed(header: header, payload: fixture.payload)) == .malformed, "\(header)")
        }
        var lowerCase = fixture.header
        lowerCase["typ"] = "jwt"
        #expect(fixture.refusal(try fixture.signed(header: lowerCase, payload: fixture.payload)) == nil)
        lowerCase["typ"] = nil
        #expect(fixture.refusal(try fixture.signed(header: lowerCase, payload: fixture.payload)) == nil)
    }

    @Test func claimsOfTheWrongKindAreMalformed() throws {
        let fixture = Fixture()
        for (name, value) in [("exp", "1780000900" as Any), ("iat", true), ("nbf", "soon"), ("sub", 7), ("iss", ""), ("aud", 3)] {
            var payload = fixture.payload
            payload[name] = value
            #expect(fixture.refusal(try fixture.signed(header: fixture.header, payload: payload)) == .malformed, "claim \(name)")
        }
    }

    // MARK: - Algorithm

    @Test func algNoneIsRefused() throws {
        let fixture = Fixture()
        let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT","kid":"\#(fixture.key.kid)"}"#.utf8))
        let payload = parts(try fixture.token())[1]
        #expect(fixture.refusal(header + "." + payload + ".") == .unsupportedAlgorithm)
        let upper = Base64URL.encode(Array(#"{"alg":"NONE","kid":"\#(fixture.key.kid)"}"#.utf8))
        #expect(fixture.refusal(upper + "." + payload + ".") == .unsupportedAlgorithm)
    }

    /// The classic confusion: HMAC with the server's public key as the secret. Vigil never accepts HS256.
    @Test func hs256WithThePublicKeyAsSecretIsRefused() throws {
        let fixture = Fixture()
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT","kid":"\#(fixture.key.kid)"}"#.utf8))
        let input = header + "." + parts(try fixture.token())[1]
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array(input.utf8), using: SymmetricKey(data: fixture.key.verificationKey.publicKey)
        )
        #expect(fixture.refusal(input + "." + Base64URL.encode(Array(mac))) == .unsupportedAlgorithm)
    }

    @Test func anAlgOtherThanTheKeysIsRefused() throws {
        let fixture = Fixture(.es256)
        var header = fixture.header
        header["alg"] = "EdDSA"
        #expect(fixture.refusal(try fixture.signed(header: header, payload: fixture.payload)) == .algorithmMismatch)
        let ed = Fixture(.edDSA)
        var edHeader = ed.header
        edHeader["alg"] = "ES256"
        #expect(ed.refusal(try ed.signed(header: edHeader, payload: ed.payload)) == .algorithmMismatch)
    }

    // MARK: - Keys and signatures

    @Test func anUnknownKidIsRefused() throws {
        let fixture = Fixture()
        let stranger = Fixture()
        #expect(fixture.refusal(try stranger.token()) == .unknownKey)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func aTamperedPayloadIsRefused(algorithm: SigningAlgorithm) throws {
        let fixture = Fixture(algorithm)
        var pieces = parts(try fixture.token())
        var claims = try JSONSerialization.jsonObject(with: Data(decodedPart(pieces.joined(separator: "."), 1))) as! [String: Any]
        claims["sub"] = "another-bank"
        pieces[1] = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
        #expect(fixture.refusal(pieces.joined(separator: ".")) == .badSignature)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func aTamperedHeaderIsRefused(algorithm: SigningAlgorithm) throws {
        let fixture = Fixture(algorithm)
        var pieces = parts(try fixture.token())
        var header = fixture.header
        header["x5u"] = "https://attacker.example/key"
        pieces[0] = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: header)))
        #expect(fixture.refusal(pieces.joined(separator: ".")) == .badSignature)
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func aTamperedSignatureIsRefused(algorithm: SigningAlgorithm) throws {
        let fixture = Fixture(algorithm)
        let token = try fixture.token()
        for index in [0, 31, 32, 63] {
            var signature = decodedPart(token, 2)
            signature[index] ^= 0x01
            let tampered = parts(token)[0..<2].joined(separator: ".") + "." + Base64URL.encode(signature)
            #expect(fixture.refusal(tampered) == .badSignature, "byte \(index)")
        }
        let truncated = parts(token)[0..<2].joined(separator: ".") + "." + Base64URL.encode(decodedPart(token, 2).dropLast())
        #expect(fixture.refusal(truncated) == .badSignature)
    }

    @Test func aKidClaimThatDisagreesWithTheHeaderIsRefused() throws {
        let fixture = Fixture()
        var payload = fixture.payload
        payload["kid"] = "another-key"
        #expect(fixture.refusal(try fixture.signed(header: fixture.header, payload: payload)) == .keyIDMismatch)
    }

    // MARK: - Claims

    @Test(arguments: ["iss", "aud", "sub", "exp", "iat", "jti", "kid"])
    func aMissingClaimIsRefused(name: String) throws {
        let fixture = Fixture()
        var payload = fixture.payload
        payload[name] = nil
        let error = #expect(throws: TokenError.self) { try fixture.verify(try fixture.signed(header: fixture.header, payload: payload)) }
        #expect(error?.code == .missingClaim)
        #expect(error?.message == "the token has no \(name) claim")
    }

    @Test func aWrongIssuerIsRefused() throws {
        let fixture = Fixture()
        var claims = fixture.claims()
        claims.issuer = "someone-else"
        #expect(fixture.refusal(try fixture.token(claims)) == .wrongIssuer)
    }

    @Test func aWrongAudienceIsRefused() throws {
        let fixture = Fixture()
        var claims = fixture.claims()
        claims.audience = ["another-api"]
        #expect(fixture.refusal(try fixture.token(claims)) == .wrongAudience)
    }

    /// `exp` is honoured to the second, with the configured skew: valid until `exp + skew`, refused from then on.
    @Test func anExpiredTokenIsRefusedAtExpiryPlusSkew() throws {
        let fixture = Fixture(skew: 30)
        let claims = fixture.claims(lifetime: 900)
        let token = try fixture.token(claims)
        #expect(fixture.refusal(token, now: claims.expiresAt - 1) == nil)
        #expect(fixture.refusal(token, now: claims.expiresAt + 29) == nil)
        #expect(fixture.refusal(token, now: claims.expiresAt + 30) == .expired)
        #expect(fixture.refusal(token, now: claims.expiresAt + 86_400) == .expired)
        let strict = TokenVerifier(
            keys: [fixture.key.verificationKey], policy: .init(issuer: "vigil", audience: "vigil-api", clockSkewSeconds: 0)
        )
        #expect(throws: TokenError.self) { try strict.verify(token, now: claims.expiresAt) }
    }

    @Test func aTokenIssuedInTheFutureIsRefusedBeyondTheSkew() throws {
        let fixture = Fixture(skew: 30)
        #expect(fixture.refusal(try fixture.token(fixture.claims(issuedAt: Fixture.now + 30))) == nil)
        #expect(fixture.refusal(try fixture.token(fixture.claims(issuedAt: Fixture.now + 31))) == .issuedInFuture)
    }

    @Test func aTokenBeforeItsNotBeforeIsRefused() throws {
        let fixture = Fixture(skew: 30)
        var claims = fixture.claims()
        claims.notBefore = Fixture.now + 31
        #expect(fixture.refusal(try fixture.token(claims)) == .notYetValid)
        claims.notBefore = Fixture.now + 30
        #expect(fixture.refusal(try fixture.token(claims)) == nil)
    }

    @Test func aLifetimeOverADayIsRefused() throws {
        let fixture = Fixture()
        #expect(fixture.refusal(try fixture.token(fixture.claims(lifetime: 86_400))) == nil)
        #expect(fixture.refusal(try fixture.token(fixture.claims(lifetime: 86_401))) == .lifetimeTooLong)
    }

    /// A fractional NumericDate is allowed by RFC 7519 §2 and read to the whole second.
    @Test func fractionalDatesAreRead() throws {
        let fixture = Fixture()
        var payload = fixture.payload
        payload["exp"] = Double(Fixture.now) + 900.75
        #expect(try fixture.verify(try fixture.signed(header: fixture.header, payload: payload)).expiresAt == Fixture.now + 900)
    }

    // MARK: - Remembering accepted tokens

    /// A token seen again skips the signature check but not the clock: it still expires on time.
    @Test func anAcceptedTokenIsRememberedAndItsTimesStillChecked() throws {
        let fixture = Fixture(skew: 30)
        let claims = fixture.claims(lifetime: 900)
        let token = try fixture.token(claims)
        #expect(try fixture.verify(token) == claims)
        #expect(fixture.verifier.accepted.count == 1)
        #expect(try fixture.verify(token, now: Fixture.now + 60) == claims)
        #expect(fixture.verifier.accepted.count == 1)
        #expect(fixture.refusal(token, now: claims.expiresAt + 30) == .expired)
        #expect(fixture.refusal(token, now: Fixture.now - 31) == .issuedInFuture)
    }

    @Test func refusedTokensAreNotRemembered() throws {
        let fixture = Fixture()
        var claims = fixture.claims()
        claims.audience = ["another-api"]
        #expect(fixture.refusal(try fixture.token(claims)) == .wrongAudience)
        let expired = try fixture.token(fixture.claims(issuedAt: Fixture.now - 7200))
        #expect(fixture.refusal(expired) == .expired)
        var pieces = parts(try fixture.token())
        pieces[2] = Base64URL.encode(decodedPart(pieces.joined(separator: "."), 2).reversed())
        #expect(fixture.refusal(pieces.joined(separator: ".")) == .badSignature)
        #expect(fixture.verifier.accepted.count == 0)
    }

    /// Memory stays bounded: a full table first drops expired tokens, then starts again.
    @Test func theAcceptedTableIsBounded() {
        let table = AcceptedTokens()
        func claims(expiresAt: Int64) -> TokenClaims {
            TokenClaims(issuer: "i", audience: ["a"], subject: "s", issuedAt: 0, expiresAt: expiresAt, id: "j", keyID: "k")
        }
        for n in 0..<AcceptedTokens.capacity {
            table.insert(claims(expiresAt: n % 2 == 0 ? 100 : 1000), for: TokenDigest(Array("token \(n)".utf8)), now: 0)
        }
        #expect(table.count == AcceptedTokens.capacity)
        table.insert(claims(expiresAt: 1000), for: TokenDigest(Array("one more".utf8)), now: 500)
        #expect(table.count == AcceptedTokens.capacity / 2 + 1)
        #expect(table.claims(for: TokenDigest(Array("token 1".utf8))) != nil)
        #expect(table.claims(for: TokenDigest(Array("token 0".utf8))) == nil)
    }

    /// No refusal quotes the token: a caller may pass the message on to the client.
    @Test func messagesNeverQuoteTheToken() throws {
        let fixture = Fixture()
        var payload = fixture.payload
        payload["sub"] = "canary-subject"
        payload["iss"] = "canary-issuer"
        payload["aud"] = "canary-audience"
        var header = fixture.header
        header["alg"] = "canary-alg"
        let tokens = [
            try fixture.signed(header: fixture.header, payload: payload),
            try fixture.signed(header: header, payload: payload),
            Base64URL.encode(Array("{canary".utf8)) + ".x.y",
        ]
        for token in tokens {
            let error = #expect(throws: TokenError.self) { try fixture.verify(token) }
            #expect(error?.message.contains("canary") == false)
            #expect(error.map { !$0.message.contains(token) } == true)
        }
    }
}
