import Crypto
import Foundation
import VigilDomain

/// The token-signing keys in `DATA/signing-keys.json` (mode 0600).
///
/// Each entry holds its key id, algorithm, creation time, public key (base64url) and private key sealed by the
/// master key with AES-256-GCM, the key id bound as associated data (envelope encryption, as `keys.json`). The
/// newest key of an algorithm signs; older ones keep verifying until every token they can have signed has
/// expired, and are then retired by the next rotation. The document lives in a ``ControlPlane`` (the file by
/// default), whose lock every writer holds; the server reads only the public keys.
public struct SigningKeyStore: Sendable {
    public let plane: any ControlPlane

    public init(plane: any ControlPlane) {
        self.plane = plane
    }

    /// The signing-key file in `dataDirectory`, the embedded default.
    public init(dataDirectory: String) {
        self.init(plane: FileControlPlane(directory: dataDirectory))
    }

    /// Where the keys are: the file's path, or where in the database.
    public var path: String { plane.location(of: .signingKeys) }

    /// How long a key outlives its successor: the longest token lifetime plus the largest clock skew.
    public static let retentionSeconds = JSONWebToken.maximumLifetimeSeconds + JSONWebToken.maximumClockSkewSeconds

    struct File: Codable {
        var format: Int
        var keys: [Entry]
    }

    struct Entry: Codable, Equatable {
        var kid: String
        var alg: SigningAlgorithm
        /// Seconds since 1970.
        var created: Int64
        /// The raw public key, base64url.
        var publicKey: String
        /// `nonce ‖ ciphertext ‖ tag` of the raw private key under the master key, hex.
        var privateKey: String
    }

    /// What a rotation did.
    public struct Rotation: Sendable {
        /// The new current key of its algorithm.
        public let key: VerificationKey
        /// Keys removed because their successor is older than ``retentionSeconds``.
        public let retired: [VerificationKey]
    }

    /// Every public key in the file, checked (each `kid` must be its key's thumbprint). An absent file holds none.
    public func verificationKeys() throws(KeyError) -> [VerificationKey] {
        try read().map { entry throws(KeyError) in try verificationKey(entry) }
    }

    /// Makes a first key of `algorithm` when the file holds no key at all (the server's first start).
    ///
    /// - Returns: the new key, or nil when there already were keys.
    @discardableResult
    public func createIfEmpty(_ algorithm: SigningAlgorithm = .es256, provider: some KeyProvider, now: Int64) throws(KeyError) -> VerificationKey? {
        try locked { (entries: inout [Entry]) throws(KeyError) -> VerificationKey? in
            guard entries.isEmpty else { return nil }
            let key = SigningKey.generate(algorithm, created: now)
            entries.append(try wrap(key, master: try provider.masterKey()))
            return key.verificationKey
        }
    }

    /// The newest key of `algorithm`, unwrapped to sign; made first when there is none.
    public func currentSigningKey(_ algorithm: SigningAlgorithm, provider: some KeyProvider, now: Int64) throws(KeyError) -> SigningKey {
        let master = try provider.masterKey()
        return try locked { (entries: inout [Entry]) throws(KeyError) -> SigningKey in
            if let entry = entries.last(where: { $0.alg == algorithm }) {
                return try unwrap(entry, master: master)
            }
            let key = SigningKey.generate(algorithm, created: now)
            entries.append(try wrap(key, master: master))
            return key
        }
    }

    /// Adds a new current key of `algorithm` and retires keys whose successor is older than ``retentionSeconds``.
    public func rotate(_ algorithm: SigningAlgorithm, provider: some KeyProvider, now: Int64) throws(KeyError) -> Rotation {
        let master = try provider.masterKey()
        return try locked { (stored: inout [Entry]) throws(KeyError) -> Rotation in
            let key = SigningKey.generate(algorithm, created: now)
            let entries = stored + [try wrap(key, master: master)]
            let kept = Self.retire(entries, now: now)
            let retired = try entries.filter { !kept.contains($0) }.map { entry throws(KeyError) in try verificationKey(entry) }
            stored = kept
            return Rotation(key: key.verificationKey, retired: retired)
        }
    }

    /// The entries still needed at `now`: an entry goes once the next entry of its algorithm (its successor) is
    /// older than ``retentionSeconds``, since every token it signed has expired by then.
    static func retire(_ entries: [Entry], now: Int64) -> [Entry] {
        entries.indices.filter { index in
            let entry = entries[index]
            guard let successor = entries[(index + 1)...].first(where: { $0.alg == entry.alg }) else { return true }
            return now - successor.created <= retentionSeconds
        }.map { entries[$0] }
    }

    // MARK: - Document

    func read() throws(KeyError) -> [Entry] {
        let bytes: [UInt8]?
        do {
            bytes = try plane.read(.signingKeys)
        } catch {
            throw KeyError(.io, "cannot read \(path): \(error)")
        }
        return try decode(bytes)
    }

    func decode(_ bytes: [UInt8]?) throws(KeyError) -> [Entry] {
        guard let bytes else { return [] }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw KeyError(.malformed, "\(path) is not a Vigil signing-key file: \(error)")
        }
        guard file.format == 1 else { throw KeyError(.malformed, "\(path) has format \(file.format); this Vigil reads format 1") }
        var kids = Set<String>()
        for entry in file.keys {
            guard kids.insert(entry.kid).inserted else { throw KeyError(.malformed, "\(path): kid \(entry.kid) appears twice") }
        }
        return file.keys
    }

    func encode(_ entries: [Entry]) throws(KeyError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(File(format: 1, keys: entries)))
        } catch {
            throw KeyError(.io, "cannot write \(path): \(error)")
        }
    }

    /// Replaces every entry, unchecked (tests corrupt entries with it).
    func write(_ entries: [Entry]) throws(KeyError) {
        let bytes = try encode(entries)
        do {
            try plane.update(.signingKeys) { _ in (.write(bytes), ()) }
        } catch {
            throw KeyError(.io, "cannot write \(path): \(error)")
        }
    }

    /// Runs `body` on the entries holding the control plane's lock on them, so concurrent writers (CLI and server,
    /// or two nodes) never lose an entry; the entries are written back when `body` changed them.
    func locked<T>(_ body: (inout [Entry]) throws(KeyError) -> T) throws(KeyError) -> T {
        do {
            return try plane.update(.signingKeys) { (bytes: [UInt8]?) throws(KeyError) -> (ControlDocumentChange, T) in
                let before = try decode(bytes)
                var entries = before
                let result = try body(&entries)
                return (entries == before ? .keep : .write(try encode(entries)), result)
            }
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError(.io, "cannot write \(path): \(error)")
        }
    }

    // MARK: - Entries

    func verificationKey(_ entry: Entry) throws(KeyError) -> VerificationKey {
        guard let bytes = Base64URL.decode(entry.publicKey.utf8) else {
            throw KeyError(.malformed, "\(path): the public key of \(entry.kid) is not base64url")
        }
        let key: VerificationKey
        do {
            key = try VerificationKey(algorithm: entry.alg, publicKey: bytes, created: entry.created)
        } catch {
            throw KeyError(.malformed, "\(path): \(entry.kid): \(error.message)")
        }
        guard key.kid == entry.kid else {
            throw KeyError(.malformed, "\(path): kid \(entry.kid) is not the thumbprint of its public key")
        }
        return key
    }

    func wrap(_ key: SigningKey, master: SymmetricKey) throws(KeyError) -> Entry {
        do {
            let box = try AES.GCM.seal(key.privateKeyBytes, using: master, authenticating: Self.associatedData(kid: key.kid))
            return Entry(
                kid: key.kid, alg: key.algorithm, created: key.verificationKey.created,
                publicKey: Base64URL.encode(key.verificationKey.publicKey), privateKey: Hex.encode(Array(box.combined!))
            )
        } catch {
            throw KeyError(.io, "cannot wrap a new signing key")
        }
    }

    func unwrap(_ entry: Entry, master: SymmetricKey) throws(KeyError) -> SigningKey {
        let verification = try verificationKey(entry)
        guard let bytes = Hex.decode(entry.privateKey) else {
            throw KeyError(.malformed, "\(path): the private key of \(entry.kid) is not hex")
        }
        let raw: Data
        do {
            let box = try AES.GCM.SealedBox(combined: bytes)
            raw = try AES.GCM.open(box, using: master, authenticating: Self.associatedData(kid: entry.kid))
        } catch {
            throw KeyError(
                .cannotUnwrap,
                "\(path): signing key \(entry.kid) does not open with this master key (wrong key file or VIGIL_MASTER_KEY?)"
            )
        }
        return try SigningKey(verificationKey: verification, privateKey: Array(raw))
    }

    /// Names the key, so a sealed private key moved to another entry does not open.
    static func associatedData(kid: String) -> [UInt8] {
        Array("vigil:signing-key:\(kid)".utf8)
    }
}
