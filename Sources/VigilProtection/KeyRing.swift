public import Crypto
import Foundation
public import VigilDomain

/// What kind of personal value a token or seal stands for. Each kind is its own HMAC and AEAD domain,
/// so a device id and an account number with the same text never share a token.
public enum PIIKind: String, Sendable, CaseIterable {
    case account, name, device, ip, reference
    /// A bank's customer id from an account-map file, tokenised as `TENANT:customerId` so two banks' customers never meet.
    case customer
    /// A card number (PAN) from an account-map file.
    case card
}

/// The data keys and the tokenisation key, unwrapped into memory once (see `KeyStore` for the file).
///
/// Data keys belong to tenants: a ring scoped to a tenant (`scoped(to:)`) seals under that tenant's newest
/// data key, so erasing a tenant's keys (`KeyStore.erase`) makes everything sealed for it unreadable. Versions
/// are unique across tenants, so a seal's version alone names the key that opens it. An unscoped ring seals
/// under the shared key, which only offline tools use (their seals are never stored).
public struct KeyRing: Sendable {
    public let tokenKeyVersion: UInt32
    let tokenKey: TokenKey
    /// The version new seals carry.
    public let currentDataKeyVersion: UInt32
    /// The tenant whose data key new seals use; nil for the shared key.
    public let tenant: String?
    let currentDataKey: KeyBox
    /// Every data key that can still open a seal, by version.
    let dataKeys: [UInt32: KeyBox]
    /// Each tenant's newest data-key version.
    let tenantKeys: [String: UInt32]
    /// Versions destroyed by erasure, with the tenant they belonged to, for a clear error.
    let erasedVersions: [UInt32: String]
    let nonces: NonceSource

    init(
        tokenKeyVersion: UInt32, tokenKey: SymmetricKey, sharedKeyVersion: UInt32, dataKeys: [UInt32: SymmetricKey],
        tenantKeys: [String: UInt32] = [:], erasedVersions: [UInt32: String] = [:]
    ) {
        precondition(dataKeys[sharedKeyVersion] != nil, "the shared data key must be among the data keys")
        self.tokenKeyVersion = tokenKeyVersion
        self.tokenKey = TokenKey(tokenKey)
        self.dataKeys = dataKeys.mapValues(KeyBox.init)
        self.tenantKeys = tenantKeys
        self.erasedVersions = erasedVersions
        self.tenant = nil
        self.currentDataKeyVersion = sharedKeyVersion
        self.currentDataKey = self.dataKeys[sharedKeyVersion]!
        self.nonces = NonceSource()
    }

    private init(scoping ring: KeyRing, to tenant: String, version: UInt32, key: KeyBox) {
        tokenKeyVersion = ring.tokenKeyVersion
        tokenKey = ring.tokenKey
        dataKeys = ring.dataKeys
        tenantKeys = ring.tenantKeys
        erasedVersions = ring.erasedVersions
        nonces = ring.nonces
        self.tenant = tenant
        currentDataKeyVersion = version
        currentDataKey = key
    }

    /// Opens `keys.json` in `directory` with the provider's master key, creating fresh keys on first start.
    public static func open(directory: String, provider: some KeyProvider) throws(KeyError) -> KeyRing {
        try KeyStore(directory: directory, provider: provider).open()
    }

    /// The same ring sealing under `tenant`'s newest data key; nil when the tenant has none (never created, or erased).
    public func scoped(to tenant: String) -> KeyRing? {
        guard let version = tenantKeys[tenant], let key = dataKeys[version] else { return nil }
        return KeyRing(scoping: self, to: tenant, version: version, key: key)
    }

    /// Each tenant's newest data-key version.
    public var tenantKeyVersions: [String: UInt32] { tenantKeys }

    /// A keyed token of a normalised value: HMAC-SHA-256 under the tokenisation key of `kind ‖ 0x00 ‖ value`.
    ///
    /// Inlinable so that callers passing arrays or strings' UTF-8 views reach the bytes without a generic call.
    ///
    /// - Performance: two SHA-256 blocks for a value under 55 bytes, the key blocks and the kind's prefix having
    ///   been hashed when the key ring opened. `vigil-microbench` stage 2 makes about five tokens a payment.
    @inlinable
    public func token(_ kind: PIIKind, _ value: some Collection<UInt8>) -> Token {
        withContiguousBytes(value) { token(kind, contiguous: $0) }
    }

    /// Seals a value under the current data key: `nonce ‖ ciphertext ‖ tag`, a random 96-bit nonce, the kind
    /// bound as associated data.
    ///
    /// - Performance: dominated by `AES.GCM.seal`, which in swift-crypto 3 sets up a BoringSSL AES-GCM context
    ///   for the key on every call and builds its result through several `Data` values; `vigil-microbench`
    ///   stage 2 makes about five seals a payment.
    @inlinable
    public func seal(_ kind: PIIKind, _ value: some Collection<UInt8>) -> SealedValue {
        withContiguousBytes(value) { seal(kind, contiguous: $0) }
    }

    @usableFromInline
    func token(_ kind: PIIKind, contiguous value: UnsafeRawBufferPointer) -> Token {
        tokenKey.token(kind, value)
    }

    @usableFromInline
    func seal(_ kind: PIIKind, contiguous value: UnsafeRawBufferPointer) -> SealedValue {
        // AES-GCM with a 12-byte nonce and a 256-bit key cannot fail for inputs this size.
        let box = try! AES.GCM.seal(value, using: currentDataKey.key, nonce: nonces.next(), authenticating: kind.associatedData)
        return SealedValue(keyVersion: currentDataKeyVersion, bytes: box.combined!.withUnsafeBytes { [UInt8]($0) })
    }

    /// Opens a sealed value; fails when the key version is gone (erased) or the bytes were altered.
    public func open(_ kind: PIIKind, _ sealed: SealedValue) throws(KeyError) -> [UInt8] {
        guard let key = dataKeys[sealed.keyVersion]?.key else {
            if let tenant = erasedVersions[sealed.keyVersion] {
                throw KeyError(.erased, "data key version \(sealed.keyVersion) was destroyed when tenant '\(tenant)' was erased")
            }
            throw KeyError(.missing, "data key version \(sealed.keyVersion) is not in the key ring")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.bytes)
            return Array(try AES.GCM.open(box, using: key, authenticating: kind.associatedData))
        } catch {
            throw KeyError(.cannotUnwrap, "sealed value does not open under data key version \(sealed.keyVersion)")
        }
    }
}

/// Holds an immutable key so it can be shared across tasks.
final class KeyBox: @unchecked Sendable {
    // SymmetricKey is an immutable value wrapping its bytes; swift-crypto 3 just does not mark it Sendable.
    let key: SymmetricKey

    init(_ key: SymmetricKey) {
        self.key = key
        LockedMemory.lock(key)
    }
}

/// The tokenisation key, held as HMAC-SHA-256 (RFC 2104) hash states that have already absorbed the key blocks:
/// per kind, the inner state after `key ⊕ ipad ‖ kind ‖ 0x00`, and the outer state after `key ⊕ opad`.
///
/// `HMAC(key:)` hashes both key blocks every time it is made, so a token made that way costs four SHA-256
/// blocks; from these states it costs two (the value, then the inner digest). swift-crypto's `HMAC` keeps its
/// states internal and takes input only through a generic `update(data:)` that is not specialised across the
/// module boundary (about 0.2 µs a call), so the construction is spelled out here over `SHA256`, whose
/// `update(bufferPointer:)` is concrete. The pinned tokens in `KeyRingCompatibilityTests` were computed with
/// Python's `hmac` and guard it. The states are as secret as the key.
final class TokenKey: @unchecked Sendable {
    // Never mutated after init, only copied out. SHA256 is a value type whose BoringSSL context is copied on
    // write (swift-crypto's `OpenSSLDigestImpl` copies it unless uniquely referenced), so a copy updated on one
    // task leaves these and every other copy untouched. swift-crypto 3 does not mark SHA256 Sendable.
    private let inner: [SHA256]
    private let outer: SHA256

    init(_ key: SymmetricKey) {
        LockedMemory.lock(key)
        // RFC 2104: a key longer than the block is hashed first; a shorter one is padded with zeros.
        var block = [UInt8](repeating: 0, count: SHA256.blockByteCount)
        key.withUnsafeBytes { key in
            if key.count > block.count {
                SHA256.hash(data: key).withUnsafeBytes { block.replaceSubrange(0..<$0.count, with: $0) }
            } else {
                block.replaceSubrange(0..<key.count, with: key)
            }
        }
        // One buffer turned from key to key ⊕ ipad to key ⊕ opad in place, and zeroed, so no copy of the key
        // material is left behind in freed memory.
        defer { block.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        for i in block.indices { block[i] ^= 0x36 }
        var ipad = SHA256()
        ipad.update(data: block)
        inner = PIIKind.allCases.map { kind in
            var state = ipad
            state.update(data: kind.associatedData)
            state.update(data: [0])
            return state
        }
        for i in block.indices { block[i] ^= 0x36 ^ 0x5c }
        var opad = SHA256()
        opad.update(data: block)
        outer = opad
    }

    /// HMAC-SHA-256 of `kind ‖ 0x00 ‖ value`.
    func token(_ kind: PIIKind, _ value: UnsafeRawBufferPointer) -> Token {
        var inner = inner[kind.index]
        inner.update(bufferPointer: value)
        var outer = outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Token(bytes: $0) }
    }
}

extension PIIKind {
    /// The position in `allCases`, for per-kind tables.
    var index: Int {
        switch self {
        case .account: 0
        case .name: 1
        case .device: 2
        case .ip: 3
        case .reference: 4
        case .customer: 5
        case .card: 6
        }
    }

    /// The kind's name in UTF-8: the HMAC domain prefix (before a 0x00) and the AEAD associated data.
    var associatedData: [UInt8] { Self.associatedData[index] }

    private static let associatedData: [[UInt8]] = allCases.enumerated().map { position, kind in
        precondition(kind.index == position, "PIIKind.index must follow the order of allCases")
        return Array(kind.rawValue.utf8)
    }
}

/// Calls `body` with the collection's bytes, in place when they are contiguous (arrays, native strings'
/// UTF-8 views), copied once otherwise.
@inlinable
func withContiguousBytes<R>(_ value: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = value.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return Array(value).withUnsafeBytes(body)
}

/// Writes a file so that readers see either the old or the new content, never a mix, even after a crash.
public enum AtomicFile {
    public static func write(_ data: [UInt8], to path: String, mode: UInt32 = 0o644) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        guard fd >= 0 else { throw AtomicFileError(path: temp, errno: errno) }
        var ok = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw AtomicFileError(path: path, errno: code)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }
}

public struct AtomicFileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
}
