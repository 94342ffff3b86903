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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(.io, "cannot read master key file \(path)")
        }
        return try KeyText.decode(data, origin: "master key file \(path)")
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
        return try KeyText.decode(Data(value.utf8), origin: "environment variable \(variable)")
    }
}

enum KeyText {
    static func decode(_ data: Data, origin: String) throws(KeyError) -> SymmetricKey {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count == 64, let bytes = Hex.decode(text) {
            return SymmetricKey(data: bytes)
        }
        if let bytes = Data(base64Encoded: text), bytes.count == 32 {
            return SymmetricKey(data: bytes)
        }
        throw KeyError(.malformed, "\(origin) must hold 32 bytes as 64 hex digits or base64")
    }
}

