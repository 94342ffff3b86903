public import VigilDomain

/// Why a stage of the intake could not take a file. Each code says what becomes of the file.
public struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        /// A back end (clamd, gpg) did not answer or could not be started: the file stays in the inbox for a retry.
        public static let unavailable = Code(value: "unavailable")
        /// The file is not encrypted to Vigil's intake key although PGP intake is on: refused.
        public static let notEncrypted = Code(value: "not-encrypted")
        /// The file is not signed, or signed by a key that is not the tenant's registered one: refused.
        public static let badSignature = Code(value: "bad-signature")
        /// The tenant has no registered PGP key: refused.
        public static let unknownKey = Code(value: "unknown-key")
        /// Decryption failed (corrupt, truncated, or encrypted to another key): refused.
        public static let undecryptable = Code(value: "undecryptable")
        /// Reading the file failed.
        public static let io = Code(value: "io")
        /// A public key offered for a tenant is not one usable OpenPGP public key (garbage, a secret key, several
        /// keys, revoked or expired, cannot sign): not registered.
        public static let unusableKey = Code(value: "unusable-key")
        public var description: String { value }
    }

    public var code: Code
    /// Says what is wrong and what to do; never contains the file's contents.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// What a malware scan found.
public enum ScanVerdict: Sendable, Hashable {
    case clean
    /// A detection, with the scanner's signature name (`Eicar-Test-Signature`): the file goes to quarantine.
    case infected(signature: String)
    /// Scanning is configured off (the embedded default, warned about at start).
    case notScanned
}

/// Scans a received file before it is opened. `VigilIntake.ClamdScanner` speaks clamd's INSTREAM protocol;
/// ``ScanningOff`` is the embedded default.
public protocol MalwareScanner: Sendable {
    /// Scans the file at `path`.
    /// - Throws: ``IntakeError`` `.unavailable` when the scanner cannot be reached or does not answer in time: the file
    ///   must stay where it is for a retry, never pass unscanned.
    func scan(file path: String) async throws(IntakeError) -> ScanVerdict
}

/// The embedded default: no scanning; every file's scan result is recorded as `notScanned`.
public struct ScanningOff: MalwareScanner {
    public init() {}
    public func scan(file path: String) async throws(IntakeError) -> ScanVerdict { .notScanned }
}

/// A tenant's registered public key, as `vigil tenant pgp-key` stored it.
public struct TenantSigningKey: Sendable, Hashable, Codable {
    /// The primary key's fingerprint, 40 upper-case hex digits.
    public var fingerprint: String
    /// The ASCII-armoured public key.
    public var armored: String

    public init(fingerprint: String, armored: String) {
        self.fingerprint = fingerprint
        self.armored = armored
    }
}

/// What opening a file established.
public struct OpenedFile: Sendable, Hashable {
    /// The fingerprint of the key whose valid signature the file carried; nil when PGP intake is off.
    public var signer: String?
    /// Plaintext bytes delivered.
    public var plaintextBytes: Int

    public init(signer: String?, plaintextBytes: Int) {
        self.signer = signer
        self.plaintextBytes = plaintextBytes
    }
}

/// Decrypts and verifies a received file, streaming its plaintext to the parser; plaintext is never written to disk.
/// `VigilIntake.GnuPGOpener` runs `gpg` in a private `GNUPGHOME`; ``PlaintextOpener`` is the embedded default.
public protocol FileOpener: Sendable {
    /// Streams the plaintext of the file at `path` into `body`, chunk by chunk, and checks that `signer` signed it.
    /// `body`'s errors are rethrown as they are (the parser refusing the file).
    /// - Throws: ``IntakeError`` for the file (bad signature, unknown key, not encrypted, …), or `body`'s error.
    func open(file path: String, signer: TenantSigningKey?, _ body: (ArraySlice<UInt8>) async throws -> Void) async throws -> OpenedFile

    /// Vigil's public intake key, ASCII-armoured, for banks to encrypt to; created on first use.
    func intakePublicKey() async throws(IntakeError) -> String

    /// Checks an ASCII-armoured public key a tenant registers and returns it with its fingerprint.
    func inspect(publicKey armored: String) async throws(IntakeError) -> TenantSigningKey
}

/// Where a loaded file's records go: the running service (VigilServer implements it over the engine, its stores and
/// its event log).
public protocol IntakeSink: Sendable {
    /// Applies the records to the running service and appends each to the event log, in order; returns once they are
    /// durable. Loading a record again (same file id and row) changes nothing.
    func load(_ events: [IntakeEvent]) async throws

    /// The highest row of the tenant's file whose record is durably loaded (0: none), so a load cut short resumes
    /// after it.
    func loadedRow(tenant: String, fileId: String) async throws -> Int
}
