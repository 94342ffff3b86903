public import Crypto
import Foundation
import VigilDomain

/// Why a key could not be produced or used.
public struct KeyError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        public static let missing = Code(value: "missing")
        public static let malformed = Code(value: "malformed")
        public static let insecurePermissions = Code(value: "insecure-permissions")
        public static let io = Code(value: "io")
        public static let cannotUnwrap = Code(value: "cannot-unwrap")
        /// The key was destroyed on purpose (a tenant's erasure): what it sealed can never be opened again.
        public static let erased = Code(value: "erased")
        public static let unknownTenant = Code(value: "unknown-tenant")
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

/// Where the master key comes from. The master key only wraps data keys; it never touches a payment.
///
/// File and environment providers exist today; a cloud KMS or Vault transit provider plugs in here.
public protocol KeyProvider: Sendable {
    /// A short name for logs and errors (never the key).
    var name: String { get }
    func masterKey() throws(KeyError) -> SymmetricKey
}

/// Reads the master key from a 0600 file, creating it with 32 random bytes on first start.
public struct FileKeyProvider: KeyProvider {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var name: String { "file" }

    public func masterKey() throws(KeyError) -> SymmetricKey {
        if !FileManager.default.fileExists(atPath: path) {
            try create()
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw KeyError(.io, "cannot stat master key file \(path)") }
        if info.st_mode & 0o077 != 0 {
            throw KeyError(
                .insecurePermissions,
                "master key file \(path) is readable by group or others; run: chmod 600 \(path)"
            )
        }
        var bytes = try Self.read(path)
        defer { LockedMemory.wipe(&bytes) }
        return try KeyText.decode(bytes, origin: "master key file \(path)")
    }

    /// The file's bytes in one array the caller wipes (a `Data` or `String` copy could not be wiped).
    static func read(_ path: String) throws(KeyError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw KeyError(.io, "cannot read master key file \(path)") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 { throw KeyError(.io, "cannot read master key file \(path)") }
            if n == 0 { break }
            count += n
        }
        guard count < bytes.count else { throw KeyError(.malformed, "master key file \(path) is too long to be a key") }
        bytes.removeSubrange(count...)  // shrinks in place: the buffer keeps its storage, which the caller wipes
        return bytes
    }

    private func create() throws(KeyError) {
        let key = SymmetricKey(size: .bits256)
        let hex = key.withUnsafeBytes { Hex.encode($0) } + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return }  // another process created it first; read theirs
            throw KeyError(.io, "cannot create master key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(hex.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw KeyError(.io, "cannot write master key file \(path)")
        }
    }
}

/// Reads the master key (64 hex digits or base64 of 32 bytes) from an environment variable.
public struct EnvironmentKeyProvider: KeyProvider {
    public let variable: String

    public init(variable: String = "VIGIL_MASTER_KEY") {
        self.variable = variable
    }

    public var name: String { "env" }

    public func masterKey() throws(KeyError) -> SymmetricKey {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw KeyError(.missing, "environment variable \(variable) is not set")
        }
        // The environment's copy of the key lives in the process's initial stack and cannot be wiped; docs/security.md.
        var bytes = Array(value.utf8)
        defer { LockedMemory.wipe(&bytes) }
        return try KeyText.decode(bytes, origin: "environment variable \(variable)")
    }
}

enum KeyText {
    /// 64 hex digits or base64 of 32 bytes, surrounding whitespace ignored. Intermediate buffers are wiped.
    static func decode(_ text: [UInt8], origin: String) throws(KeyError) -> SymmetricKey {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else {
            throw KeyError(.malformed, "\(origin) is empty; it must hold 32 bytes as 64 hex digits or base64")
        }
        let trimmed = text[first...last]
        var raw: [UInt8] = []
        defer { LockedMemory.wipe(&raw) }
        if trimmed.count == 64, let bytes = Hex.decode(bytes: trimmed) {
            raw = bytes
        } else if let bytes = Base64.decode(trimmed), bytes.count == 32 {
            raw = bytes
        } else {
            throw KeyError(.malformed, "\(origin) must hold 32 bytes as 64 hex digits or base64")
        }
        let key = SymmetricKey(data: raw)
        LockedMemory.lock(key)
        return key
    }
}

/// Standard base64 (RFC 4648 §4, padding required), decoded without a `Data` or `String` copy: the text is mapped to
/// the URL-safe alphabet in a buffer that is wiped, and decoded by `Base64URL`.
enum Base64 {
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var mapped = [UInt8](repeating: 0, count: text.count)
        defer { LockedMemory.wipe(&mapped) }
        var length = 0
        for byte in text {
            switch byte {
            case UInt8(ascii: "+"): mapped[length] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): mapped[length] = UInt8(ascii: "_")
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return nil
            case UInt8(ascii: "="): continue
            default:
                mapped[length] = byte
            }
            length += 1
        }
        // Padding only at the end, at most two.
        let padding = text.count - length
        guard padding <= 2, text.suffix(padding).allSatisfy({ $0 == UInt8(ascii: "=") }) else { return nil }
        return Base64URL.decode(mapped[..<length])
    }
}
