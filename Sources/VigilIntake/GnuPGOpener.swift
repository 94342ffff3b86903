public import VigilFiles
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Decrypts and verifies received files with the `gpg` binary (GnuPG 2.2), in a private `GNUPGHOME` that holds
/// Vigil's intake key and the tenants' registered public keys. The plaintext streams from gpg's stdout into the
/// caller and never touches the disk.
///
/// A file opens only when it is encrypted to Vigil's intake key, decrypts whole (integrity-protected), and every
/// signature on it is a valid one by the tenant's registered key (its primary key's fingerprint). Anything else is
/// refused with a reason (``IntakeError``): unsigned, bad or other signer (`.badSignature`), no registered key
/// (`.unknownKey`), a plain or signed-only file (`.notEncrypted`), corrupt, truncated or encrypted to another key
/// (`.undecryptable`); gpg missing or silent for `deadline` is `.unavailable`.
///
/// Call ``shutdown()`` when done: gpg starts a gpg-agent for the private home, which outlives each run.
public struct GnuPGOpener: FileOpener {
    /// The private GNUPGHOME, e.g. `DATA/intake/gnupg`; created 0700 on first use. Keep its path short (under about
    /// 80 bytes) unless `/run/user/UID` exists: gpg-agent's socket lives in it.
    public var home: String
    /// The gpg program, looked up on PATH when it has no `/`.
    public var gpg: String
    /// The gpgconf program, which stops the home's gpg-agent.
    public var gpgconf: String
    /// The gpg-connect-agent program, which tells the agent's PID (to wait for its end in ``shutdown()``).
    public var gpgConnectAgent: String
    /// How long gpg may go without producing anything before it is killed and the file left for a retry.
    public var deadline: Duration
    /// The user id of Vigil's intake key, which ``intakePublicKey()`` finds or creates.
    public var intakeUserId: String

    public init(
        home: String, gpg: String = "gpg", gpgconf: String = "gpgconf", deadline: Duration = .seconds(30),
        intakeUserId: String = "Vigil intake <intake@vigil.invalid>", gpgConnectAgent: String = "gpg-connect-agent"
    ) {
        self.gpgConnectAgent = gpgConnectAgent
        self.home = home
        self.gpg = gpg
        self.gpgconf = gpgconf
        self.deadline = deadline
        self.intakeUserId = intakeUserId
    }

    // MARK: Opening a file

    /// Streams the file's plaintext into `body` while gpg decrypts it, then checks the signature.
    ///
    /// - Important: gpg releases plaintext as it decrypts and verifies the signature only at the end of the file (and
    ///   the integrity check with it). Rows handed to `body` are NOT yet trusted: stage them, and commit nothing until
    ///   `open` returns normally. If it throws, discard everything `body` received.
    /// - Throws: ``IntakeError`` (see the type's documentation), `CancellationError`, or `body`'s error as it is.
    public func open(
        file path: String, signer: TenantSigningKey?, _ body: (ArraySlice<UInt8>) async throws -> Void
    ) async throws -> OpenedFile {
        guard let signer else {
            throw IntakeError(
                .unknownKey, "the tenant has no registered PGP key: register it with `vigil tenant pgp-key TENANT FILE`")
        }
        guard access(path, R_OK) == 0 else {
            throw IntakeError(.io, "the file to open cannot be read: \(Descriptor.message(errno))")
        }
        let opener = self
        try await pool { () throws(IntakeError) in try opener.importTenantKey(signer) }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                gpg,
                baseArguments + ["--trust-model", "always", "--no-auto-key-retrieve", "--decrypt", "--output", "-", path],
                environment: environment)
        } catch {
            throw IntakeError(.unavailable, "PGP decryption is unavailable: \(error)")
        }
        var finished = false
        defer {
            if !finished {
                child.kill()
                _ = child.wait()
                child.closePipes()
            }
        }

        var status = StatusReader()
        var plaintextBytes = 0
        var open = [child.status]
        var readingOutput = false  // stdout is read only once gpg has begun decrypting (below)
        var lastProgress = ContinuousClock.now
        while !open.isEmpty {
            try Task.checkCancellation()
            let fds = open
            let reads = try await pool { () throws(IntakeError) in try Self.pump(fds) }
            if reads.isEmpty {
                if lastProgress.duration(to: .now) > deadline {
                    throw IntakeError(.unavailable, "gpg produced nothing for \(deadline): killed; the file stays for a retry")
                }
                continue
            }
            lastProgress = .now
            for (fd, bytes) in reads {
                guard let bytes else {
                    open.removeAll { $0 == fd }
                    continue
                }
                if fd == child.output {
                    plaintextBytes += bytes.count
                    try await body(bytes[...])
                    continue
                }
                status.feed(bytes)
                // A literal packet before any decryption is a signed-only (or plain literal) file: its plaintext is
                // never read. gpg says BEGIN_DECRYPTION before it writes any decrypted byte.
                if status.saw("PLAINTEXT") && !status.saw("BEGIN_DECRYPTION") {
                    throw IntakeError(
                        .notEncrypted,
                        "the file is signed but not encrypted: encrypt it to Vigil's intake key (`vigil intake key`) "
                            + "with gpg --sign --encrypt")
                }
                if !readingOutput && status.saw("BEGIN_DECRYPTION") {
                    readingOutput = true
                    open.append(child.output)
                }
            }
        }
        let exit = await poolReap(child)
        finished = true
        child.closePipes()
        try Self.verdict(status, exit: exit, signer: signer)
        return OpenedFile(signer: signer.fingerprint, plaintextBytes: plaintextBytes)
    }

    /// What gpg's status lines and exit status say of a file it has read to the end.
    static func verdict(_ status: StatusReader, exit: Int32, signer: TenantSigningKey) throws(IntakeError) {
        if !status.saw("BEGIN_DECRYPTION") && !status.saw("ENC_TO") && !status.saw("DECRYPTION_FAILED") {
            throw IntakeError(
                .notEncrypted,
                "the file is not an OpenPGP encrypted message: encrypt it to Vigil's intake key (`vigil intake key`) "
                    + "with gpg --sign --encrypt")
        }
        if status.saw("NO_SECKEY") && !status.saw("DECRYPTION_OKAY") {
            throw IntakeError(
                .undecryptable,
                "the file is encrypted to another key than Vigil's intake key: encrypt it to the key `vigil intake key` prints")
        }
        guard status.saw("DECRYPTION_OKAY"), status.saw("END_DECRYPTION"), !status.saw("DECRYPTION_FAILED") else {
            throw IntakeError(
                .undecryptable, "the file does not decrypt: it is corrupt or truncated (send it again, whole)")
        }
        let signatures = status.lines.filter { $0.first == "NEWSIG" }.count
        guard signatures > 0 else {
            throw IntakeError(.badSignature, "the file is not signed: sign it with the tenant's registered key (gpg --sign --encrypt)")
        }
        if status.saw("BADSIG") {
            throw IntakeError(.badSignature, "the file's signature is bad: the file was altered after it was signed")
        }
        if status.saw("EXPKEYSIG") || status.saw("REVKEYSIG") {
            throw IntakeError(.badSignature, "the file is signed with an expired or revoked key: sign with a current key and register it")
        }
        let signers = status.lines.filter { $0.first == "VALIDSIG" }.compactMap(\.last)
        guard signers.count == signatures, signers.allSatisfy({ $0 == signer.fingerprint }) else {
            throw IntakeError(
                .badSignature,
                "the file is signed by another key than the tenant's registered key \(signer.fingerprint): sign it with "
                    + "that key, or register the new one with `vigil tenant pgp-key`")
        }
        guard exit == 0 else {
            throw IntakeError(.undecryptable, "gpg could not read the file whole (exit status \(exit)): send it again")
        }
    }

    // MARK: Keys

    /// Vigil's public intake key, ASCII-armoured. Creates it on first use (an ed25519 signing primary key and a
    /// cv25519 encryption subkey, no passphrase, never expiring) in the private home; later calls return the same key.
    public func intakePublicKey() async throws(IntakeError) -> String {
        let opener = self
        return try await pool { () throws(IntakeError) in
            let fingerprint = try opener.withHomeLock { () throws(IntakeError) in try opener.ensureIntakeKey() }
            let run = try opener.run(["--armor", "--export", fingerprint])
            guard run.exit == 0, !run.output.isEmpty else {
                throw IntakeError(.unavailable, "gpg could not export Vigil's intake key (exit status \(run.exit))")
            }
            return String(decoding: run.output, as: UTF8.self)
        }
    }

    /// Checks a key a tenant registers: exactly one OpenPGP public key (no secret key), not revoked or expired, able to
    /// sign (files must be signed with it). Returns it with its primary key's fingerprint.
    public func inspect(publicKey armored: String) async throws(IntakeError) -> TenantSigningKey {
        guard armored.utf8.count <= 1 << 20 else {
            throw IntakeError(.unusableKey, "the key is larger than 1 MiB: send one ASCII-armoured public key (gpg --armor --export KEY)")
        }
        let opener = self
        return try await pool { () throws(IntakeError) in
            try opener.ensureHome()
            let run = try opener.withTemporaryFile(armored) { (file) throws(IntakeError) in
                try opener.run(["--with-colons", "--show-keys", file])
            }
            let records = String(decoding: run.output, as: UTF8.self).split(separator: "\n").map {
                $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            }
            if records.contains(where: { $0.first == "sec" || $0.first == "ssb" }) {
                throw IntakeError(
                    .unusableKey, "this is a secret key: register the public key only (gpg --armor --export KEY), and keep the secret one")
            }
            let primaries = records.indices.filter { records[$0].first == "pub" }
            guard run.exit == 0, !primaries.isEmpty else {
                throw IntakeError(.unusableKey, "this is not an OpenPGP public key: send one, ASCII-armoured (gpg --armor --export KEY)")
            }
            guard primaries.count == 1, let primary = primaries.first else {
                throw IntakeError(.unusableKey, "this holds \(primaries.count) public keys: register exactly one")
            }
            let fields = records[primary]
            if fields.count > 1, ["r", "e"].contains(fields[1]) {
                throw IntakeError(.unusableKey, "the key is \(fields[1] == "r" ? "revoked" : "expired"): register a current key")
            }
            // Field 12: the whole key's usable capabilities in upper case (S sign, E encrypt, C certify).
            guard fields.count > 11, fields[11].contains("S") else {
                throw IntakeError(
                    .unusableKey, "the key cannot sign: files must be signed with it (create it with sign capability)")
            }
            guard let fingerprint = records[(primary + 1)...].first(where: { $0.first == "fpr" }), fingerprint.count > 9,
                fingerprint[9].count == 40
            else {
                throw IntakeError(.unusableKey, "the key has no version 4 fingerprint: register an OpenPGP v4 key")
            }
            return TenantSigningKey(fingerprint: fingerprint[9].uppercased(), armored: armored)
        }
    }

    /// Stops the gpg-agent that gpg started for the private home (`gpgconf --kill all`) and returns once it has exited
    /// (or after `deadline`).
    public func shutdown() async {
        let opener = self
        let agent = try? await pool { () throws(IntakeError) -> Int32? in
            // The agent's PID, if one runs; --no-autostart so that asking does not start one.
            let child = try? ChildProcess.spawn(
                opener.gpgConnectAgent, ["--homedir", opener.home, "--no-autostart", "getinfo pid", "/bye"],
                environment: opener.environment)
            let output = (try? child?.collect(idle: opener.deadline).output) ?? []
            let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("D ") }
            _ = try? opener.runProgram(opener.gpgconf, ["--homedir", opener.home, "--kill", "all"])
            return line.flatMap { Int32($0.dropFirst(2)) }
        }
        guard let pid = agent.flatMap({ $0 }) else { return }
        let until = ContinuousClock.now + deadline
        while !Self.hasExited(pid), ContinuousClock.now < until {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the process `pid` is gone (or a zombie, or no longer a gpg-agent: its PID reused).
    static func hasExited(_ pid: Int32) -> Bool {
        let fd = Glibc.open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 512) }
        guard count > 0 else { return true }
        // "PID (COMM) STATE …": COMM may hold spaces and parentheses, so the state follows the last ')'.
        let stat = String(decoding: buffer[..<count], as: UTF8.self)
        guard let close = stat.lastIndex(of: ")"), stat[..<close].hasSuffix("gpg-agent") else { return true }
        return stat[stat.index(after: close)...].trimmingPrefix(" ").first == "Z"
    }

    /// Runs a GnuPG tool other than gpg (gpgconf) to its end; its exit status.
    func runProgram(_ program: String, _ arguments: [String]) throws(IntakeError) -> Int32 {
        do {
            return try ChildProcess.spawn(program, arguments, environment: environment).collect(idle: deadline).exit
        } catch {
            throw IntakeError(.unavailable, "\(program) did not run: \(error)")
        }
    }

    // MARK: gpg runs

    var environment: [String: String] {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        return ["GNUPGHOME": home, "PATH": path, "LC_ALL": "C", "LANG": "C"]
    }

    var baseArguments: [String] {
        ["--homedir", home, "--batch", "--no-tty", "--status-fd", "3", "--no-greeting", "--no-permission-warning"]
    }

    struct Run {
        var output: [UInt8]
        var status: StatusReader
        var exit: Int32
    }

    /// Runs gpg with `arguments` in the private home to its end.
    func run(_ arguments: [String]) throws(IntakeError) -> Run {
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(gpg, baseArguments + arguments, environment: environment)
        } catch {
            throw IntakeError(.unavailable, "PGP is unavailable: \(error)")
        }
        do {
            let result = try child.collect(idle: deadline)
            var status = StatusReader()
            status.feed(result.status[...])
            return Run(output: result.output, status: status, exit: result.exit)
        } catch {
            throw IntakeError(.unavailable, "gpg did not finish (\(error) after \(deadline)): killed")
        }
    }

    /// Creates the private home, 0700, with its parents.
    func ensureHome() throws(IntakeError) {
        var prefix = home.hasPrefix("/") ? "" : "."
        for component in home.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw IntakeError(.io, "the PGP home \(home) cannot be created: \(Descriptor.message(errno))")
            }
        }
        guard chmod(home, 0o700) == 0 else {
            throw IntakeError(.io, "the PGP home \(home) cannot be made private (0700): \(Descriptor.message(errno))")
        }
    }

    /// Runs `body` holding an exclusive lock on the home, so two processes never create two intake keys.
    func withHomeLock<T>(_ body: () throws(IntakeError) -> T) throws(IntakeError) -> T {
        try ensureHome()
        let fd = Glibc.open(home + "/vigil-intake.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IntakeError(.io, "the PGP home's lock cannot be opened: \(Descriptor.message(errno))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw IntakeError(.io, "the PGP home cannot be locked: \(Descriptor.message(errno))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Writes `text` to a private file in the home for gpg to read, and removes it after `body`.
    func withTemporaryFile<T>(_ text: String, _ body: (String) throws(IntakeError) -> T) throws(IntakeError) -> T {
        var template = Array((home + "/vigil-key-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IntakeError(.io, "a temporary file in the PGP home cannot be made: \(Descriptor.message(errno))") }
        let file = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(file) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else {
                close(fd)
                throw IntakeError(.io, "a temporary file in the PGP home cannot be written: \(Descriptor.message(errno))")
            }
            offset += written
        }
        close(fd)
        return try body(file)
    }

    /// The intake key's fingerprint, creating the key (or its missing encryption subkey) first when needed.
    func ensureIntakeKey() throws(IntakeError) -> String {
        let listing = try run(["--with-colons", "--list-secret-keys"])
        var fingerprint: String?
        var canEncrypt = false
        var current: (fingerprint: String?, uid: Bool, encrypt: Bool) = (nil, false, false)
        func finishKey() {
            if fingerprint == nil, current.uid, let candidate = current.fingerprint {
                fingerprint = candidate
                canEncrypt = current.encrypt
            }
        }
        var expectingPrimaryFingerprint = false
        for line in String(decoding: listing.output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "sec":
                finishKey()
                current = (nil, false, false)
                expectingPrimaryFingerprint = true
            case "fpr" where expectingPrimaryFingerprint && fields.count > 9:
                current.fingerprint = fields[9]
                expectingPrimaryFingerprint = false
            case "uid" where fields.count > 9:
                if fields[9] == intakeUserId { current.uid = true }
            case "ssb" where fields.count > 11:
                if fields[11].contains("e") && !["r", "e"].contains(fields[1]) { current.encrypt = true }
            default: break
            }
        }
        finishKey()
        if fingerprint == nil {
            let created = try run([
                "--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", intakeUserId, "ed25519", "sign,cert", "never",
            ])
            guard created.exit == 0, let line = created.status.lines.first(where: { $0.first == "KEY_CREATED" }), line.count > 2 else {
                throw IntakeError(.unavailable, "gpg could not create Vigil's intake key (exit status \(created.exit))")
            }
            fingerprint = line[2]
        }
        guard let fingerprint else { throw IntakeError(.unavailable, "gpg could not create Vigil's intake key") }
        if !canEncrypt {
            let added = try run([
                "--passphrase", "", "--pinentry-mode", "loopback", "--quick-add-key", fingerprint, "cv25519", "encr", "never",
            ])
            guard added.exit == 0 else {
                throw IntakeError(.unavailable, "gpg could not add the encryption subkey to Vigil's intake key (exit status \(added.exit))")
            }
        }
        return fingerprint
    }

    /// Puts the tenant's registered key into the private keyring (again: importing is idempotent), so gpg can check
    /// signatures by it.
    func importTenantKey(_ key: TenantSigningKey) throws(IntakeError) {
        try ensureHome()
        let run = try withTemporaryFile(key.armored) { (file) throws(IntakeError) in try self.run(["--import", file]) }
        let imported = run.status.lines.filter { $0.first == "IMPORT_OK" }.compactMap { $0.count > 2 ? $0[2] : nil }
        guard imported.contains(key.fingerprint) else {
            throw IntakeError(
                .unknownKey, "the tenant's registered PGP key cannot be read: register it again with `vigil tenant pgp-key`")
        }
    }

    // MARK: Thread pool

    /// Runs blocking work (a gpg run, a bounded wait) on NIO's blocking pool.
    private func pool<T: Sendable>(_ work: @escaping @Sendable () throws(IntakeError) -> T) async throws(IntakeError) -> T {
        let outcome: Result<T, IntakeError>
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive { () -> Result<T, IntakeError> in
                do throws(IntakeError) { return .success(try work()) } catch { return .failure(error) }
            }
        } catch {
            throw IntakeError(.unavailable, "PGP could not run: the blocking thread pool is shut down")
        }
        return try outcome.get()
    }

    private func poolReap(_ child: ChildProcess) async -> Int32 {
        (try? await NIOThreadPool.singleton.runIfActive { child.wait() }) ?? -1
    }

    /// Waits a short slice for output on `fds` and reads what came: nil bytes at end of file; an empty list when the
    /// slice passed with nothing (the caller checks its own deadline, and the pool thread is free again soon).
    static func pump(_ fds: [Int32]) throws(IntakeError) -> [(Int32, [UInt8]?)] {
        do {
            let ready = try Descriptor.wait(fds, for: Int16(POLLIN), until: .now + .milliseconds(200))
            var reads: [(Int32, [UInt8]?)] = []
            for fd in ready {
                let bytes = try Descriptor.readAvailable(fd, limit: 64 * 1024)
                if bytes?.isEmpty != true { reads.append((fd, bytes)) }
            }
            return reads
        } catch .timedOut {
            return []
        } catch {
            throw IntakeError(.unavailable, "reading gpg's output failed: \(error)")
        }
    }
}

/// gpg's machine-readable status lines (`[GNUPG:] KEYWORD ARGS…`, doc/DETAILS in GnuPG), in order.
struct StatusReader: Sendable {
    private var pending: [UInt8] = []
    /// Each complete line's keyword and arguments.
    private(set) var lines: [[String]] = []

    mutating func feed(_ bytes: some Collection<UInt8>) {
        pending += bytes
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasPrefix("[GNUPG:] ") {
                lines.append(line.dropFirst("[GNUPG:] ".count).split(separator: " ").map(String.init))
            }
        }
    }

    func saw(_ keyword: String) -> Bool { lines.contains { $0.first == keyword } }
}
