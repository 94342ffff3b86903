import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilProtection
import VigilServer

/// The server's own signing keys, as `vigil tenant token` reaches them.
private func store(_ dir: String) -> SigningKeyStore { SigningKeyStore(dataDirectory: dir) }

private func provider(_ dir: String) -> FileKeyProvider { FileKeyProvider(path: dir + "/master.key") }

private func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// A token as `vigil tenant token` issues it, with every claim open to change.
private func token(
    _ key: SigningKey, subject: String = "demo", issuer: String = "vigil", audience: String = "vigil-api",
    issuedAt: Int64 = now(), lifetime: Int64 = 900
) throws -> String {
    try JSONWebToken.issue(
        TokenClaims(
            issuer: issuer, audience: [audience], subject: subject, issuedAt: issuedAt, expiresAt: issuedAt + lifetime,
            id: TokenClaims.newID(), keyID: key.kid
        ),
        key: key
    )
}

private func currentKey(_ dir: String, _ algorithm: SigningAlgorithm = .es256) throws -> SigningKey {
    try store(dir).currentSigningKey(algorithm, provider: provider(dir), now: now())
}

private struct Answer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [String: Any]
    var text: String
}

private func score(_ client: any TestClientProtocol, bearer: String) async throws -> Answer {
    try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: bearer), body: json(paymentBody())) {
        Answer(status: $0.status, headers: $0.headers, body: object($0.body), text: String(buffer: $0.body))
    }
}

/// Scores until the answer is no longer `401`: the signing-key and tenant reloaders poll once a second.
private func scoreOnceReloaded(_ client: any TestClientProtocol, bearer: String) async throws -> Answer {
    var answer = try await score(client, bearer: bearer)
    for _ in 0..<100 where answer.status == .unauthorized {
        try await Task.sleep(for: .milliseconds(100))
        answer = try await score(client, bearer: bearer)
    }
    return answer
}

/// A refused token: 401 problem+json, the RFC 6750 challenge, a detail that names the cause and never the token.
private func expectRefused(_ answer: Answer, token: String, detail: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(answer.status == .unauthorized, sourceLocation: sourceLocation)
    #expect(answer.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    #expect(answer.headers[.wwwAuthenticate] == #"Bearer realm="vigil", error="invalid_token""#, sourceLocation: sourceLocation)
    #expect(answer.body["type"] as? String == "urn:vigil:problem:unauthorized", sourceLocation: sourceLocation)
    let text = answer.body["detail"] as? String ?? ""
    #expect(text.contains(detail), "detail: \(text)", sourceLocation: sourceLocation)
    for part in token.split(separator: ".") where part.count >= 8 {
        #expect(!answer.text.contains(part), sourceLocation: sourceLocation)
    }
}

struct TokenAuthenticationTests {
    @Test func aValidTokenScores() async throws {
        let dir = temporaryDataDirectory()
        let logs = LogCapture()
        try await withVigil(dataDirectory: dir, logs: logs) { client, _ in
            let bearer = try token(try currentKey(dir))
            let answer = try await score(client, bearer: bearer)
            #expect(answer.status == .ok)
            #expect((0...999).contains(answer.body["score"] as? Int ?? -1))
            #expect(!logs.text.contains(bearer))
        }
        // The server made the first signing key on start, readable by its owner only.
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/signing-keys.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// An EdDSA key made after start (by `vigil tenant token --alg EdDSA`) signs tokens the server accepts once it
    /// has reloaded the key file.
    @Test func anEdDSATokenScores() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let key = try currentKey(dir, .edDSA)
            #expect(key.algorithm == .edDSA)
            #expect(try await scoreOnceReloaded(client, bearer: try token(key)).status == .ok)
        }
    }

    @Test func aTamperedTokenIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            _ = try TenantDirectory(dataDirectory: dir).create(name: "other-bank")
            let genuine = try token(try currentKey(dir))
            var parts = genuine.split(separator: ".").map(String.init)
            // The claims rewritten to name another tenant, the signature left as it was.
            var claims = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(Array(parts[1].utf8))!)) as! [String: Any]
            claims["sub"] = "other-bank"
            parts[1] = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
            let tampered = parts.joined(separator: ".")
            expectRefused(try await score(client, bearer: tampered), token: tampered, detail: "the signature does not verify")
        }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            // Issued two hours ago for fifteen minutes: long past its expiry and the 30 s skew.
            let expired = try token(try currentKey(dir), issuedAt: now() - 7200, lifetime: 900)
            expectRefused(try await score(client, bearer: expired), token: expired, detail: "the token has expired")
        }
    }

    @Test func algNoneIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let genuine = try token(try currentKey(dir))
            let kid = try currentKey(dir).kid
            let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT","kid":"\#(kid)"}"#.utf8))
            let unsigned = header + "." + genuine.split(separator: ".")[1] + "."
            expectRefused(try await score(client, bearer: unsigned), token: unsigned, detail: "alg is not ES256 or EdDSA")
        }
    }

    @Test func aWrongAudienceIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let elsewhere = try token(try currentKey(dir), audience: "another-api")
            expectRefused(
                try await score(client, bearer: elsewhere), token: elsewhere, detail: "audience does not include this service"
            )
        }
    }

    @Test func anUnknownKidIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            // A well-formed token signed by a key the server has never seen.
            let stranger = try token(SigningKey.generate(.es256, created: now()))
            expectRefused(try await score(client, bearer: stranger), token: stranger, detail: "kid names no current signing key")
        }
    }

    @Test func aTokenForAnUnknownTenantIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let orphan = try token(try currentKey(dir), subject: "no-such-bank")
            expectRefused(try await score(client, bearer: orphan), token: orphan, detail: "its subject is not a tenant")
        }
    }

    @Test func aMalformedTokenIsRefusedAsAToken() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            expectRefused(try await score(client, bearer: "abc.def"), token: "abc.def", detail: "not three dot-separated parts")
            let long = String(repeating: "a", count: 5000) + ".b.c"
            expectRefused(try await score(client, bearer: long), token: long, detail: "longer than 4096 bytes")
        }
    }

    /// The server takes the configured issuer and audience, not only the defaults.
    @Test func theConfiguredAudienceAndIssuerAreRequired() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(
            dataDirectory: dir,
            configure: {
                $0.tokenIssuer = "bank-issuer"
                $0.tokenAudience = "bank-scoring"
            }
        ) { client, _ in
            let key = try currentKey(dir)
            #expect(try await score(client, bearer: try token(key, issuer: "bank-issuer", audience: "bank-scoring")).status == .ok)
            let defaults = try token(key)
            expectRefused(try await score(client, bearer: defaults), token: defaults, detail: "issued by another issuer")
        }
    }

    @Test func aTokenOfThePreviousKeyWorksAfterRotation() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let previous = try token(try currentKey(dir))
            let rotation = try store(dir).rotate(.es256, provider: provider(dir), now: now())
            let next = try token(try currentKey(dir))
            #expect(try currentKey(dir).kid == rotation.key.kid)
            // Once the new key verifies, the server has reloaded; the old key's token must still score.
            #expect(try await scoreOnceReloaded(client, bearer: next).status == .ok)
            #expect(try await score(client, bearer: previous).status == .ok)
        }
    }

    /// A key retired by a later rotation stops verifying at once in the running server.
    @Test func aRetiredKeysTokenIsRefused() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            let first = try currentKey(dir)
            let early = try token(first)
            let retention = SigningKeyStore.retentionSeconds
            // Two rotations, the second dated after the first's key has outlived its retention.
            _ = try store(dir).rotate(.es256, provider: provider(dir), now: now())
            let rotation = try store(dir).rotate(.es256, provider: provider(dir), now: now() + retention + 60)
            #expect(rotation.retired.map(\.kid) == [first.kid])
            var answer = try await score(client, bearer: early)
            for _ in 0..<100 where answer.status == .ok {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await score(client, bearer: early)
            }
            expectRefused(answer, token: early, detail: "kid names no current signing key")
        }
    }

    @Test func aTenantThatRefusesAPIKeysAcceptsOnlyTokens() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, apiKey in
            #expect(try await score(client, bearer: apiKey).status == .ok)
            try TenantDirectory(dataDirectory: dir).update { $0[0].acceptAPIKeys = false }
            var answer = try await score(client, bearer: apiKey)
            for _ in 0..<100 where answer.status == .ok {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await score(client, bearer: apiKey)
            }
            #expect(answer.status == .unauthorized)
            #expect(answer.headers[.wwwAuthenticate] == #"Bearer realm="vigil""#)
            #expect((answer.body["detail"] as? String)?.contains("accepts only signed tokens") == true)
            #expect(!answer.text.contains(apiKey))
            #expect(try await score(client, bearer: try token(try currentKey(dir))).status == .ok)
        }
    }
}

struct TokenConfigurationTests {
    @Test func tokenKeysHaveDefaultsAndLayerLikeTheRest() throws {
        let defaults = VigilConfiguration()
        #expect(defaults.tokenIssuer == "vigil")
        #expect(defaults.tokenAudience == "vigil-api")
        #expect(defaults.tokenClockSkewSeconds == 30)
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try #"{"tokenIssuer": "bank", "tokenAudience": "scoring", "tokenClockSkewSeconds": 5}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try VigilConfiguration.load(file: path)
        #expect(configuration.tokenPolicy == .init(issuer: "bank", audience: "scoring", clockSkewSeconds: 5))
        try configuration.applyEnvironment([
            "VIGIL_TOKEN_ISSUER": "env-bank", "VIGIL_TOKEN_AUDIENCE": "env-scoring", "VIGIL_TOKEN_CLOCK_SKEW_SECONDS": "60",
        ])
        #expect(configuration.tokenPolicy == .init(issuer: "env-bank", audience: "env-scoring", clockSkewSeconds: 60))
    }

    @Test(arguments: [
        (#"{"tokenClockSkewSeconds": 301}"#, "tokenClockSkewSeconds must be between 0 and 300"),
        (#"{"tokenClockSkewSeconds": -1}"#, "tokenClockSkewSeconds must be between 0 and 300"),
        (#"{"tokenIssuer": ""}"#, "tokenIssuer must be 1–256 bytes of printable text"),
        (#"{"tokenAudience": "a\nb"}"#, "tokenAudience must be 1–256 bytes of printable text"),
        (#"{"tokenAudiences": "x"}"#, "unknown key 'tokenAudiences'"),
    ])
    func badTokenSettingsAreRefused(text: String, message: String) throws {
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        var configuration = VigilConfiguration()
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment(["VIGIL_TOKEN_CLOCK_SKEW_SECONDS": "ten"]) }
    }

    @Test func createdAtBoundsHaveDefaultsAndLayerLikeTheRest() throws {
        #expect(VigilConfiguration().createdAtBounds == CreatedAtBounds(skewSeconds: 300, lagSeconds: 86_400))
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try #"{"createdAtSkewSeconds": 60, "createdAtLagSeconds": 3600}"#.write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try VigilConfiguration.load(file: path)
        #expect(configuration.createdAtBounds == CreatedAtBounds(skewSeconds: 60, lagSeconds: 3600))
        try configuration.applyEnvironment(["VIGIL_CREATED_AT_SKEW_SECONDS": "0", "VIGIL_CREATED_AT_LAG_SECONDS": "604800"])
        #expect(configuration.createdAtBounds == CreatedAtBounds(skewSeconds: 0, lagSeconds: 604_800))
    }

    @Test(arguments: [
        (#"{"createdAtSkewSeconds": -1}"#, "createdAtSkewSeconds must be between 0 and 3600"),
        (#"{"createdAtSkewSeconds": 3601}"#, "createdAtSkewSeconds must be between 0 and 3600"),
        (#"{"createdAtLagSeconds": 59}"#, "createdAtLagSeconds must be between 60 and 316224000"),
        (#"{"createdAtLagSeconds": 316224001}"#, "createdAtLagSeconds must be between 60 and 316224000"),
    ])
    func badCreatedAtBoundsAreRefused(text: String, message: String) throws {
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        var configuration = VigilConfiguration()
        for variable in ["VIGIL_CREATED_AT_SKEW_SECONDS", "VIGIL_CREATED_AT_LAG_SECONDS"] {
            #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment([variable: "ten"]) }
        }
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment(["VIGIL_CREATED_AT_SKEW_SECONDS": "3601"]) }
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment(["VIGIL_CREATED_AT_LAG_SECONDS": "0"]) }
    }

    @Test func theMasterKeyProviderFollowsTheConfiguredSource() {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = "/srv/vigil"
        #expect((configuration.masterKeyProvider as? FileKeyProvider)?.path == "/srv/vigil/master.key")
        configuration.masterKeySource = .env
        #expect(configuration.masterKeyProvider is EnvironmentKeyProvider)
    }

    /// Tenant files written before `acceptAPIKeys` existed still load, and a tenant left at the default does not
    /// gain the key when written back.
    @Test func acceptAPIKeysIsOptionalInTheTenantFile() throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "bank-a")
        #expect(!(try String(contentsOfFile: directory.path, encoding: .utf8)).contains("acceptAPIKeys"))
        #expect(try directory.load().byName["bank-a"]?.config.acceptAPIKeys == nil)
        try directory.update { $0[0].acceptAPIKeys = false }
        #expect(try String(contentsOfFile: directory.path, encoding: .utf8).contains(#""acceptAPIKeys" : false"#))
        #expect(try directory.load().byName["bank-a"]?.config.acceptAPIKeys == false)
    }
}
