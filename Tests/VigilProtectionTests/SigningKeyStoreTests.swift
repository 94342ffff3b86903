import Foundation
import Testing
import VigilDomain
@testable import VigilProtection

struct SigningKeyStoreTests {
    static let now: Int64 = 1_780_000_000

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "vigil-signing-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func entries(_ store: SigningKeyStore) throws -> [[String: Any]] {
        let data = try #require(FileManager.default.contents(atPath: store.path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(object["keys"] as? [[String: Any]])
    }

    @Test func theFirstKeyIsMadeOnceWithMode0600() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        #expect(try store.verificationKeys().isEmpty)
        let first = try #require(try store.createIfEmpty(provider: provider, now: Self.now))
        #expect(first.algorithm == .es256)
        #expect(try store.createIfEmpty(provider: provider, now: Self.now + 1) == nil)
        #expect(try store.verificationKeys() == [first])
        let mode = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let entry = try #require(try entries(store).first)
        #expect(Set(entry.keys) == ["kid", "alg", "created", "publicKey", "privateKey"])
        #expect(entry["kid"] as? String == first.kid)
        #expect(entry["alg"] as? String == "ES256")
        #expect(entry["created"] as? Int == Int(Self.now))
    }

    /// The private key is on disk only sealed: neither its bytes in hex nor in base64url appear in the file.
    @Test(arguments: SigningAlgorithm.allCases)
    func thePrivateKeyIsStoredOnlySealed(algorithm: SigningAlgorithm) throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let key = try store.currentSigningKey(algorithm, provider: FileKeyProvider(path: dir + "/master.key"), now: Self.now)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(!text.contains(Hex.encode(key.privateKeyBytes)))
        #expect(!text.contains(Base64URL.encode(key.privateKeyBytes)))
        #expect(text.contains(Base64URL.encode(key.verificationKey.publicKey)))
    }

    @Test func theCurrentKeyIsTheNewestOfItsAlgorithmAndIsMadeOnFirstUse() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        let es = try store.currentSigningKey(.es256, provider: provider, now: Self.now)
        #expect(try store.currentSigningKey(.es256, provider: provider, now: Self.now + 5).kid == es.kid)
        let ed = try store.currentSigningKey(.edDSA, provider: provider, now: Self.now)
        #expect(ed.algorithm == .edDSA)
        #expect(Set(try store.verificationKeys().map(\.kid)) == [es.kid, ed.kid])
        let rotated = try store.rotate(.es256, provider: provider, now: Self.now + 10)
        #expect(try store.currentSigningKey(.es256, provider: provider, now: Self.now + 11).kid == rotated.key.kid)
        #expect(try store.currentSigningKey(.edDSA, provider: provider, now: Self.now + 11).kid == ed.kid)
    }

    /// A token signed before a rotation still verifies against the keys read back from the file.
    @Test(arguments: SigningAlgorithm.allCases)
    func aTokenOfThePreviousKeyVerifiesAfterRotation(algorithm: SigningAlgorithm) throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        let old = try store.currentSigningKey(algorithm, provider: provider, now: Self.now)
        let claims = TokenClaims(
            issuer: "vigil", audience: ["vigil-api"], subject: "demo", issuedAt: Self.now, expiresAt: Self.now + 900,
            id: TokenClaims.newID(), keyID: old.kid
        )
        let token = try JSONWebToken.issue(claims, key: old)
        let rotation = try store.rotate(algorithm, provider: provider, now: Self.now + 60)
        #expect(rotation.key.kid != old.kid)
        #expect(rotation.retired.isEmpty)
        let verifier = TokenVerifier(
            keys: try store.verificationKeys(), policy: .init(issuer: "vigil", audience: "vigil-api", clockSkewSeconds: 30)
        )
        #expect(verifier.keyIDs == [old.kid, rotation.key.kid])
        #expect(try verifier.verify(token, now: Self.now + 120) == claims)
    }

    /// A key is retired by the first rotation after its successor is older than the longest lifetime plus the
    /// largest skew, and not a second earlier.
    @Test func aRotationRetiresKeysWhoseTokensHaveAllExpired() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        let first = try store.currentSigningKey(.es256, provider: provider, now: Self.now)
        let ed = try store.currentSigningKey(.edDSA, provider: provider, now: Self.now)
        let second = try store.rotate(.es256, provider: provider, now: Self.now + 100).key
        let retention = SigningKeyStore.retentionSeconds
        #expect(retention == 86_400 + 300)

        let third = try store.rotate(.es256, provider: provider, now: Self.now + 100 + retention)
        #expect(third.retired.isEmpty)
        #expect(Set(try store.verificationKeys().map(\.kid)) == [first.kid, second.kid, ed.kid, third.key.kid])

        let fourth = try store.rotate(.es256, provider: provider, now: Self.now + 101 + retention)
        #expect(fourth.retired.map(\.kid) == [first.kid])
        // The EdDSA key has no successor, and `second` is followed by a key made just now: both stay.
        #expect(Set(try store.verificationKeys().map(\.kid)) == [second.kid, ed.kid, third.key.kid, fourth.key.kid])
    }

    @Test func retirementLooksOnlyAtTheSuccessorOfTheSameAlgorithm() {
        func entry(_ kid: String, _ alg: SigningAlgorithm, _ created: Int64) -> SigningKeyStore.Entry {
            .init(kid: kid, alg: alg, created: created, publicKey: "", privateKey: "")
        }
        let r = SigningKeyStore.retentionSeconds
        let entries = [entry("a", .es256, 0), entry("b", .edDSA, 10), entry("c", .es256, 20), entry("d", .es256, 30)]
        #expect(SigningKeyStore.retire(entries, now: 20 + r).map(\.kid) == ["a", "b", "c", "d"])
        #expect(SigningKeyStore.retire(entries, now: 21 + r).map(\.kid) == ["b", "c", "d"])
        #expect(SigningKeyStore.retire(entries, now: 31 + r).map(\.kid) == ["b", "d"])
        #expect(SigningKeyStore.retire(entries, now: 10_000 * r).map(\.kid) == ["b", "d"])
    }

    @Test func aWrongMasterKeyCannotSign() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        _ = try store.currentSigningKey(.es256, provider: FileKeyProvider(path: dir + "/master.key"), now: Self.now)
        let other = try tempDir()
        let error = #expect(throws: KeyError.self) {
            try store.currentSigningKey(.es256, provider: FileKeyProvider(path: other + "/master.key"), now: Self.now)
        }
        #expect(error?.code == .cannotUnwrap)
        // Reading the public keys needs no master key.
        #expect(try store.verificationKeys().count == 1)
    }

    /// The sealed private key names its kid as associated data, so moving it to another entry makes it useless.
    @Test func aPrivateKeyMovedToAnotherEntryDoesNotOpen() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        _ = try store.currentSigningKey(.es256, provider: provider, now: Self.now)
        _ = try store.rotate(.es256, provider: provider, now: Self.now + 1)
        var file = try store.read()
        file[1].privateKey = file[0].privateKey
        try store.write(file)
        let error = #expect(throws: KeyError.self) { try store.currentSigningKey(.es256, provider: provider, now: Self.now + 2) }
        #expect(error?.code == .cannotUnwrap)
    }

    @Test func aKidThatIsNotItsKeysThumbprintIsRefused() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        let provider = FileKeyProvider(path: dir + "/master.key")
        let a = try store.currentSigningKey(.es256, provider: provider, now: Self.now)
        let b = try store.rotate(.es256, provider: provider, now: Self.now + 1).key
        var file = try store.read()
        file[0].publicKey = Base64URL.encode(b.publicKey)
        try store.write(file)
        let error = #expect(throws: KeyError.self) { try store.verificationKeys() }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("\(a.kid) is not the thumbprint") == true)
    }

    @Test func aDamagedFileIsRefusedWithItsPath() throws {
        let dir = try tempDir()
        let store = SigningKeyStore(dataDirectory: dir)
        for text in ["{", #"{"format":2,"keys":[]}"#, #"{"format":1,"keys":[{"kid":"k","alg":"HS256","created":1,"publicKey":"","privateKey":""}]}"#] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: store.path))
            let error = #expect(throws: KeyError.self) { try store.verificationKeys() }
            #expect(error?.code == .malformed)
            #expect(error?.message.contains(store.path) == true)
        }
    }

    /// Key ids are RFC 7638 JWK thumbprints.
    @Test func kidsAreJWKThumbprints() throws {
        // RFC 7515 §A.3's P-256 key; its thumbprint computed with Python's json and hashlib.
        let x = Base64URL.decode(Array("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU".utf8))!
        let y = Base64URL.decode(Array("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0".utf8))!
        let key = try VerificationKey(algorithm: .es256, publicKey: x + y, created: 0)
        #expect(key.kid == "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U")
        // RFC 8037 §A.3: the Ed25519 example key's thumbprint is given in the RFC.
        let ed = try VerificationKey(
            algorithm: .edDSA, publicKey: Base64URL.decode(Array("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".utf8))!, created: 0
        )
        #expect(ed.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    @Test func aPublicKeyOffTheCurveIsRefused() {
        #expect(throws: KeyError.self) { try VerificationKey(algorithm: .es256, publicKey: [UInt8](repeating: 1, count: 64), created: 0) }
        #expect(throws: KeyError.self) { try VerificationKey(algorithm: .edDSA, publicKey: [1, 2, 3], created: 0) }
    }
}
