public import Crypto
import Foundation
public import VigilDomain

/// What kind of personal value a token or seal stands for. Each kind is its own HMAC and AEAD domain,
/// so a device id and an account number with the same text never share a token.
public enum PIIKind: String, Sendable, CaseIterable {
    case account, name, device, ip, reference
}

/// The data keys and the tokenisation key, unwrapped into memory once at start.
///
/// On disk (`keys.json` in the data directory) each key is AES-256-GCM sealed by the master key
/// (envelope encryption): stealing the data directory without the master key yields nothing.
/// Every seal carries its data-key version, so a later key version can be added without
/// re-encrypting what is stored.
public struct KeyRing: Sendable {
    public let tokenKeyVersion: UInt32
    let tokenKeyBox: KeyBox
    public let currentDataKeyVersion: UInt32
    let dataKeys: [UInt32: KeyBox]

    var tokenKey: SymmetricKey { tokenKeyBox.key }

    init(tokenKeyVersion: UInt32, tokenKey: SymmetricKey, dataKeys: [UInt32: SymmetricKey]) {
        self.tokenKeyVersion = tokenKeyVersion
        self.tokenKeyBox = KeyBox(tokenKey)
        self.dataKeys = dataKeys.mapValues(KeyBox.init)
        self.currentDataKeyVersion = dataKeys.keys.max() ?? 0
    }

    /// Opens `keys.json` in `directory` with the provider's master key, creating fresh keys on first start.
    public static func open(directory: String, provider: some KeyProvider) throws(KeyError) -> KeyRing {
        let master = try provider.masterKey()
        let path = directory + "/keys.json"
        if !FileManager.default.fileExists(atPath: path) {
            let file = KeyFile(
                format: 1,
                tokenKeys: [try wrap(SymmetricKey(size: .bits256), version: 1, purpose: "token", master: master)],
                dataKeys: [try wrap(SymmetricKey(size: .bits256), version: 1, purpose: "data", master: master)]
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try AtomicFile.write(Array(try encoder.encode(file)), to: path, mode: 0o600)
            } catch {
                throw KeyError(.io, "cannot write \(path): \(error)")
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(.io, "cannot read \(path)")
        }
        let file: KeyFile
        do {
            file = try JSONDecoder().decode(KeyFile.self, from: data)
        } catch {
            throw KeyError(.malformed, "\(path) is not a Vigil key file: \(error)")
        }
        guard let tokenEntry = file.tokenKeys.max(by: { $0.version < $1.version }) else {
            throw KeyError(.malformed, "\(path) holds no tokenisation key")
        }
        let tokenKey = try unwrap(tokenEntry, purpose: "token", master: master, path: path)
        var dataKeys: [UInt32: SymmetricKey] = [:]
        for entry in file.dataKeys {
            dataKeys[entry.version] = try unwrap(entry, purpose: "data", master: master, path: path)
        }
        guard !dataKeys.isEmpty else { throw KeyError(.malformed, "\(path) holds no data key") }
        return KeyRing(tokenKeyVersion: tokenEntry.version, tokenKey: tokenKey, dataKeys: dataKeys)
    }

    /// A keyed token (HMAC-SHA-256) of a normalised value.
    ///
    /// - Performance: one HMAC over a short input, about a microsecond.
    public func token(_ kind: PIIKind, _ value: some Collection<UInt8>) -> Token {
        var hmac = HMAC<SHA256>(key: tokenKey)
        hmac.update(data: Array(kind.rawValue.utf8))
        hmac.update(data: [0])
        hmac.update(data: Array(value))
        let mac = hmac.finalize()
        return mac.withUnsafeBytes { Token(bytes: $0) }
    }

    /// Seals a value under the current data key. The kind is bound as associated data.
    public func seal(_ kind: PIIKind, _ value: some Collection<UInt8>) -> SealedValue {
        let key = dataKeys[currentDataKeyVersion]!.key
        // AES-GCM with a fresh random nonce cannot fail for inputs this size.
        let box = try! AES.GCM.seal(Array(value), using: key, authenticating: Array(kind.rawValue.utf8))
        return SealedValue(keyVersion: currentDataKeyVersion, bytes: Array(box.combined!))
    }

    /// Opens a sealed value; fails when the key version is gone (erased) or the bytes were altered.
    public func open(_ kind: PIIKind, _ sealed: SealedValue) throws(KeyError) -> [UInt8] {
        guard let key = dataKeys[sealed.keyVersion]?.key else {
            throw KeyError(.missing, "data key version \(sealed.keyVersion) is not in the key ring")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.bytes)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(kind.rawValue.utf8)))
        } catch {
            throw KeyError(.cannotUnwrap, "sealed value does not open under data key version \(sealed.keyVersion)")
        }
    }

    static func wrap(_ key: SymmetricKey, version: UInt32, purpose: String, master: SymmetricKey) throws(KeyError) -> KeyFile.Entry {
        let raw = key.withUnsafeBytes { Array($0) }
        do {
            let box = try AES.GCM.seal(raw, using: master, authenticating: Array("vigil:\(purpose)-key:v\(version)".utf8))
            return KeyFile.Entry(version: version, wrapped: Hex.encode(Array(box.combined!)))
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
            let raw = try AES.GCM.open(box, using: master, authenticating: Array("vigil:\(purpose)-key:v\(entry.version)".utf8))
            return SymmetricKey(data: raw)
        } catch {
            throw KeyError(
                .cannotUnwrap,
                "\(path): \(purpose) key version \(entry.version) does not open with this master key (wrong key file or VIGIL_MASTER_KEY?)"
            )
        }
    }
}

/// Holds an immutable key so it can be shared across tasks.
final class KeyBox: @unchecked Sendable {
    // SymmetricKey is an immutable value wrapping its bytes; swift-crypto 3 just does not mark it Sendable.
    let key: SymmetricKey

    init(_ key: SymmetricKey) {
        self.key = key
    }
}

struct KeyFile: Codable {
    struct Entry: Codable {
        var version: UInt32
        var wrapped: String
    }

    var format: Int
    var tokenKeys: [Entry]
    var dataKeys: [Entry]
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
