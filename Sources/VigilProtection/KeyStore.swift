public import Crypto
import Foundation
import VigilDomain

/// `keys.json` in the data directory: every key Vigil holds, each AES-256-GCM sealed by the master key (envelope
/// encryption), so the file alone yields nothing.
///
/// - The tokenisation key (versioned; docs/security.md explains how a rotation would run).
/// - One shared data key for offline tools, whose seals are never stored.
/// - Per-tenant data keys: `rotateDataKeys` adds a version, `erase` destroys every version of a tenant
///   (crypto-shredding). Versions are unique across tenants and never reused, even after erasure.
///
/// The document lives in a ``ControlPlane`` (the file by default): writers hold its lock, so no change is lost, and
/// a running server notices the new document and reloads it, so rotation and erasure need no restart.
public struct KeyStore: Sendable {
    public let plane: any ControlPlane
    public let provider: any KeyProvider

    public init(plane: any ControlPlane, provider: any KeyProvider) {
        self.plane = plane
        self.provider = provider
    }

    /// The key file in `directory`, the embedded default.
    public init(directory: String, provider: any KeyProvider) {
        self.init(plane: FileControlPlane(directory: directory), provider: provider)
    }

    /// Where the keys are: the file's path, or where in the database.
    public var path: String { plane.location(of: .keys) }

    /// Reads every key into a ring, creating the document (with a tokenisation key and the shared data key) on
    /// first use.
    public func open() throws(KeyError) -> KeyRing {
        let master = try provider.masterKey()
        let file: KeyFile
        if let bytes = try readBytes() {
            file = try decode(bytes)
        } else {
            file = try change { (bytes: [UInt8]?) throws(KeyError) -> (ControlDocumentChange, KeyFile) in
                if let bytes { return (.keep, try decode(bytes)) }
                let file = KeyFile(
                    format: 2, nextVersion: 2,
                    tokenKeys: [try Self.wrap(SymmetricKey(size: .bits256), version: 1, tenant: nil, purpose: "token", master: master)],
                    dataKeys: [try Self.wrap(SymmetricKey(size: .bits256), version: 1, tenant: nil, purpose: "data", master: master)],
                    erased: []
                )
                return (.write(try encode(file)), file)
            }
        }
        return try ring(from: file, master: master)
    }

    /// Gives every named tenant that has no data key a fresh one; returns the tenants given one.
    /// `tenants` runs under the key file's lock, so it sees tenants as they are when the keys are written.
    @discardableResult
    public func ensureDataKeys(for tenants: () throws -> [String]) throws(KeyError) -> [String] {
        let master = try provider.masterKey()
        return try update { (file: inout KeyFile) throws(KeyError) -> [String] in
            let names: [String]
            do {
                names = try tenants()
            } catch {
                throw KeyError(.io, "cannot read the tenant list: \(error)")
            }
            let keyed = Set(file.dataKeys.compactMap(\.tenant))
            var created: [String] = []
            for name in names where !keyed.contains(name) {
                try file.addDataKey(for: name, master: master)
                created.append(name)
            }
            return created
        }
    }

    /// Adds a new data-key version for each named tenant (every tenant with a key when `tenants` is nil). New seals
    /// use it at once; older versions stay to open what they sealed. Returns each tenant's new version.
    public func rotateDataKeys(tenants: [String]?) throws(KeyError) -> [(tenant: String, version: UInt32)] {
        let master = try provider.masterKey()
        return try update { (file: inout KeyFile) throws(KeyError) -> [(tenant: String, version: UInt32)] in
            let keyed = Set(file.dataKeys.compactMap(\.tenant))
            let names = tenants ?? keyed.sorted()
            var rotated: [(tenant: String, version: UInt32)] = []
            for name in names {
                guard keyed.contains(name) else {
                    throw KeyError(.unknownTenant, "tenant '\(name)' has no data key to rotate (unknown or erased tenant)")
                }
                rotated.append((name, try file.addDataKey(for: name, master: master)))
            }
            return rotated
        }
    }

    /// Destroys every data-key version of `tenant`: whatever was sealed for it can no longer be opened, by anyone
    /// holding this directory and its master key. Returns the destroyed versions.
    ///
    /// The keys leave this file only; a backup of an older `keys.json` taken with its master key would still open
    /// them (docs/security.md).
    public func erase(tenant: String, at erasedAt: Int64) throws(KeyError) -> [UInt32] {
        try update { (file: inout KeyFile) throws(KeyError) -> [UInt32] in
            let versions = file.dataKeys.filter { $0.tenant == tenant }.map(\.version).sorted()
            guard !versions.isEmpty else { throw KeyError(.unknownTenant, "tenant '\(tenant)' has no data keys to erase") }
            file.dataKeys.removeAll { $0.tenant == tenant }
            file.erased.append(KeyFile.Erasure(tenant: tenant, versions: versions, erasedAt: erasedAt))
            return versions
        }
    }

    // MARK: - The document

    func readBytes() throws(KeyError) -> [UInt8]? {
        do {
            return try plane.read(.keys)
        } catch {
            throw KeyError(.io, "cannot read \(path): \(error)")
        }
    }

    func read() throws(KeyError) -> KeyFile {
        guard let bytes = try readBytes() else { throw KeyError(.io, "cannot read \(path)") }
        return try decode(bytes)
    }

    func decode(_ bytes: [UInt8]) throws(KeyError) -> KeyFile {
        do {
            return try JSONDecoder().decode(KeyFile.self, from: Data(bytes))
        } catch {
            throw KeyError(.malformed, "\(path) is not a Vigil key file: \(error)")
        }
    }

    func encode(_ file: KeyFile) throws(KeyError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(file))
        } catch {
            throw KeyError(.io, "cannot write \(path): \(error)")
        }
    }

    /// Read-modify-write of the document under the control plane's lock, with the control plane's failures as
    /// ``KeyError``s.
    func change<T>(_ body: ([UInt8]?) throws(KeyError) -> (ControlDocumentChange, T)) throws(KeyError) -> T {
        do {
            return try plane.update(.keys) { bytes in try body(bytes) }
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError(.io, "cannot write \(path): \(error)")
        }
    }

    /// Read-modify-write; nothing is written when `change` throws.
    func update<T>(_ change: (inout KeyFile) throws(KeyError) -> T) throws(KeyError) -> T {
        _ = try open()  // creates the document on first use
        return try self.change { (bytes: [UInt8]?) throws(KeyError) -> (ControlDocumentChange, T) in
            guard let bytes else { throw KeyError(.io, "cannot read \(path)") }
            var file = try decode(bytes)
            file.upgrade()
            let result = try change(&file)
            return (.write(try encode(file)), result)
        }
    }

    func ring(from file: KeyFile, master: SymmetricKey) throws(KeyError) -> KeyRing {
        guard let tokenEntry = file.tokenKeys.max(by: { $0.version < $1.version }) else {
            throw KeyError(.malformed, "\(path) holds no tokenisation key")
        }
        let tokenKey = try Self.unwrap(tokenEntry, purpose: "token", master: master, path: path)
        var dataKeys: [UInt32: SymmetricKey] = [:]
        var tenantKeys: [String: UInt32] = [:]
        var shared: UInt32?
        for entry in file.dataKeys {
            guard dataKeys[entry.version] == nil else { throw KeyError(.malformed, "\(path): data key version \(entry.version) appears twice") }
            dataKeys[entry.version] = try Self.unwrap(entry, purpose: "data", master: master, path: path)
            if let tenant = entry.tenant {
                tenantKeys[tenant] = max(tenantKeys[tenant] ?? 0, entry.version)
            } else {
                shared = max(shared ?? 0, entry.version)
            }
        }
        guard let shared else { throw KeyError(.malformed, "\(path) holds no shared data key") }
        var erased: [UInt32: String] = [:]
        for erasure in file.erased {
            for version in erasure.versions { erased[version] = erasure.tenant }
        }
        return KeyRing(
            tokenKeyVersion: tokenEntry.version, tokenKey: tokenKey, sharedKeyVersion: shared, dataKeys: dataKeys,
            tenantKeys: tenantKeys, erasedVersions: erased
        )
    }

    /// The associated data binding a wrapped key to its purpose, version and tenant, so an entry moved to another
    /// tenant or version in the file does not open.
    static func associatedData(purpose: String, version: UInt32, tenant: String?) -> [UInt8] {
        Array((tenant.map { "vigil:\(purpose)-key:\($0):v\(version)" } ?? "vigil:\(purpose)-key:v\(version)").utf8)
    }

    static func wrap(_ key: SymmetricKey, version: UInt32, tenant: String?, purpose: String, master: SymmetricKey) throws(KeyError) -> KeyFile.Entry {
        do {
            let box = try key.withUnsafeBytes { raw in
                try AES.GCM.seal(raw, using: master, authenticating: associatedData(purpose: purpose, version: version, tenant: tenant))
            }
            return KeyFile.Entry(version: version, wrapped: Hex.encode(Array(box.combined!)), tenant: tenant)
        } catch {
            throw KeyError(.io, "cannot wrap a new \(purpose) key")
        }
    }

    static func unwrap(_ entry: KeyFile.Entry, purpose: String, master: SymmetricKey, path: String) throws(KeyError) -> SymmetricKey {
        guard let bytes = Hex.decode(entry.wrapped) else {
            throw KeyError(.malformed, "\(path): \(purpose) key version \(entry.version) is not hex")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: bytes)
            var raw = Array(try AES.GCM.open(
                box, using: master, authenticating: associatedData(purpose: purpose, version: entry.version, tenant: entry.tenant)
            ))
            defer { LockedMemory.wipe(&raw) }
            return SymmetricKey(data: raw)
        } catch {
            throw KeyError(
                .cannotUnwrap,
                "\(path): \(purpose) key version \(entry.version) does not open with this master key (wrong key file or VIGIL_MASTER_KEY?)"
            )
        }
    }
}

struct KeyFile: Codable {
    struct Entry: Codable {
        var version: UInt32
        var wrapped: String
        /// The tenant owning a data key; nil for the tokenisation key and the shared data key.
        var tenant: String?
    }

    /// A tenant's erasure: which versions were destroyed, and when (epoch seconds). No key material.
    struct Erasure: Codable {
        var tenant: String
        var versions: [UInt32]
        var erasedAt: Int64
    }

    var format: Int
    /// The next data-key version to hand out; versions are never reused.
    var nextVersion: UInt32?
    var tokenKeys: [Entry]
    var dataKeys: [Entry]
    var erased: [Erasure]

    init(format: Int, nextVersion: UInt32?, tokenKeys: [Entry], dataKeys: [Entry], erased: [Erasure]) {
        self.format = format
        self.nextVersion = nextVersion
        self.tokenKeys = tokenKeys
        self.dataKeys = dataKeys
        self.erased = erased
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(Int.self, forKey: .format)
        nextVersion = try c.decodeIfPresent(UInt32.self, forKey: .nextVersion)
        tokenKeys = try c.decode([Entry].self, forKey: .tokenKeys)
        dataKeys = try c.decode([Entry].self, forKey: .dataKeys)
        erased = try c.decodeIfPresent([Erasure].self, forKey: .erased) ?? []
    }

    /// A format-1 file (one shared data key, no tenants) becomes format 2 on its first change.
    mutating func upgrade() {
        format = 2
        let used = (dataKeys.map(\.version) + erased.flatMap(\.versions)).max() ?? 0
        nextVersion = max(nextVersion ?? 0, used + 1)
    }

    @discardableResult
    mutating func addDataKey(for tenant: String, master: SymmetricKey) throws(KeyError) -> UInt32 {
        upgrade()
        let version = nextVersion!
        dataKeys.append(try KeyStore.wrap(SymmetricKey(size: .bits256), version: version, tenant: tenant, purpose: "data", master: master))
        nextVersion = version + 1
        return version
    }
}
