import Foundation
import Testing
import VigilFiles
import VigilIntake

/// Against the real gpg: Vigil's private home, and banks that seal files with their own gpg.
@Suite("GnuPGOpener")
struct GnuPGOpenerTests {
    /// A test's world: Vigil's opener (intake key created), a registered bank that trusts Vigil's key, and a
    /// directory for files. Everything is stopped and removed after `body`, and no gpg-agent of theirs remains.
    func withIntake(_ body: (GnuPGOpener, Bank, TenantSigningKey, TemporaryDirectory) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        let opener = GnuPGOpener(home: directory.file("vigil"))
        let bank = try Bank.make(home: directory.file("bank"), name: "Northbank")
        defer { directory.remove() }
        do {
            try bank.trust(try await opener.intakePublicKey())
            let registered = try await opener.inspect(publicKey: try bank.publicKey)
            try await body(opener, bank, registered, directory)
        } catch {
            await opener.shutdown()
            bank.shutdown()
            throw error
        }
        await opener.shutdown()
        bank.shutdown()
        #expect(processes(mentioning: opener.home).isEmpty, "Vigil's gpg-agent outlived shutdown()")
    }

    /// Opens `sealed` as the tenant `signer`, collecting what the body receives.
    func open(_ opener: GnuPGOpener, _ sealed: [UInt8], signer: TenantSigningKey?, in directory: TemporaryDirectory) async throws
        -> (OpenedFile, [UInt8])
    {
        let path = try directory.write("received-\(UInt32.random(in: 0...UInt32.max)).csv.gpg", sealed)
        var received: [UInt8] = []
        let opened = try await opener.open(file: path, signer: signer) { received += $0 }
        return (opened, received)
    }

    /// Expects `open` to refuse the file with `code`, having handed the body nothing when `bodyUntouched`.
    func expectRefusal(
        _ code: IntakeError.Code, _ opener: GnuPGOpener, _ sealed: [UInt8], signer: TenantSigningKey?,
        in directory: TemporaryDirectory, bodyUntouched: Bool = false
    ) async throws {
        let path = try directory.write("refused-\(UInt32.random(in: 0...UInt32.max)).csv.gpg", sealed)
        var received = 0
        do {
            _ = try await opener.open(file: path, signer: signer) { received += $0.count }
            Issue.record("the file opened; expected \(code)")
        } catch let error as IntakeError {
            #expect(error.code == code, "\(error.message)")
        }
        if bodyUntouched { #expect(received == 0) }
    }

    static let rows = Array(
        ("paymentId,reportedAt,fraudType\n" + (1...20_000).map { "p-\($0),2026-12-04T10:00:00Z,app_scam\n" }.joined()).utf8)

    @Test("a file signed by the tenant and encrypted to the intake key streams its plaintext and names the signer")
    func goodFile() async throws {
        try await withIntake { opener, bank, registered, directory in
            #expect(registered.fingerprint == bank.fingerprint)
            for armor in [false, true] {
                let sealed = try bank.seal(Self.rows, to: "intake@vigil.invalid", sign: true, armor: armor)
                let (opened, plaintext) = try await open(opener, sealed, signer: registered, in: directory)
                #expect(plaintext == Self.rows)
                #expect(opened.signer == bank.fingerprint)
                #expect(opened.plaintextBytes == Self.rows.count)
            }
        }
    }

    @Test("a file signed by another key is refused: a key Vigil does not know, and another tenant's registered key")
    func wrongSigner() async throws {
        try await withIntake { opener, bank, registered, directory in
            let other = try Bank.make(home: directory.file("other"), name: "Southbank")
            defer { other.shutdown() }
            try other.trust(try await opener.intakePublicKey())
            let sealed = try other.seal(Self.rows, to: "intake@vigil.invalid", sign: true)
            try await expectRefusal(.badSignature, opener, sealed, signer: registered, in: directory)
            // Southbank registered as a tenant of its own: its key is in Vigil's keyring, still not Northbank's.
            let otherRegistered = try await opener.inspect(publicKey: try other.publicKey)
            _ = try await open(opener, sealed, signer: otherRegistered, in: directory)
            try await expectRefusal(.badSignature, opener, sealed, signer: registered, in: directory)
        }
    }

    @Test("an encrypted but unsigned file is refused")
    func unsigned() async throws {
        try await withIntake { opener, bank, registered, directory in
            let sealed = try bank.seal(Self.rows, to: "intake@vigil.invalid", sign: false)
            try await expectRefusal(.badSignature, opener, sealed, signer: registered, in: directory)
        }
    }

    @Test("a plain file and a signed-only file are refused as not encrypted, before any plaintext reaches the body")
    func unencrypted() async throws {
        try await withIntake { opener, bank, registered, directory in
            try await expectRefusal(.notEncrypted, opener, Self.rows, signer: registered, in: directory, bodyUntouched: true)
            let signedOnly = try bank.seal(Self.rows, to: nil, sign: true)
            try await expectRefusal(.notEncrypted, opener, signedOnly, signer: registered, in: directory, bodyUntouched: true)
            let clearArmored = try bank.seal(Self.rows, to: nil, sign: true, armor: true)
            try await expectRefusal(.notEncrypted, opener, clearArmored, signer: registered, in: directory, bodyUntouched: true)
        }
    }

    @Test("a corrupt or truncated file, or one encrypted to another key, does not decrypt")
    func undecryptable() async throws {
        try await withIntake { opener, bank, registered, directory in
            let sealed = try bank.seal(Self.rows, to: "intake@vigil.invalid", sign: true)
            var corrupt = sealed
            corrupt[corrupt.count / 2] ^= 0x5a
            try await expectRefusal(.undecryptable, opener, corrupt, signer: registered, in: directory)
            try await expectRefusal(.undecryptable, opener, Array(sealed.prefix(sealed.count * 2 / 3)), signer: registered, in: directory)
            let toBankItself = try bank.seal(Self.rows, to: bank.fingerprint, sign: true)
            try await expectRefusal(.undecryptable, opener, toBankItself, signer: registered, in: directory, bodyUntouched: true)
        }
    }

    @Test("a tenant with no registered key: unknown key")
    func unknownKey() async throws {
        try await withIntake { opener, bank, _, directory in
            let sealed = try bank.seal(Self.rows, to: "intake@vigil.invalid", sign: true)
            try await expectRefusal(.unknownKey, opener, sealed, signer: nil, in: directory, bodyUntouched: true)
        }
    }

    @Test("the body's error ends the open as it is, and gpg with it")
    func bodyError() async throws {
        struct Refused: Error {}
        try await withIntake { opener, bank, registered, directory in
            let path = try directory.write("file.csv.gpg", try bank.seal(Self.rows, to: "intake@vigil.invalid", sign: true))
            await #expect(throws: Refused.self) {
                _ = try await opener.open(file: path, signer: registered) { _ in throw Refused() }
            }
            #expect(processes(mentioning: path).isEmpty)
        }
    }

    @Test("the intake key is created once: later calls, and another opener on the same home, return the same key")
    func intakeKeyIdempotent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let home = directory.file("vigil")
        let first = GnuPGOpener(home: home)
        let created = try await first.intakePublicKey()
        #expect(created.hasPrefix("-----BEGIN PGP PUBLIC KEY BLOCK-----"))
        #expect(try await first.intakePublicKey() == created)
        let again = GnuPGOpener(home: home)
        #expect(try await again.intakePublicKey() == created)
        let mode = try FileManager.default.attributesOfItem(atPath: home)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        // One secret key, with an encryption subkey: what banks encrypt to.
        let listing = String(decoding: try Bank.gpg(home, ["--with-colons", "--list-secret-keys"]), as: UTF8.self)
        let records = listing.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        #expect(records.filter { $0.first == "sec" }.count == 1)
        #expect(records.contains { $0.first == "ssb" && $0.count > 11 && $0[11].contains("e") })
        await first.shutdown()
        #expect(processes(mentioning: home).isEmpty)
    }

    @Test("inspect takes one public key that can sign; refuses garbage, a secret key and several keys")
    func inspectKeys() async throws {
        try await withIntake { opener, bank, _, directory in
            let other = try Bank.make(home: directory.file("other"), name: "Southbank")
            defer { other.shutdown() }
            let key = try await opener.inspect(publicKey: try bank.publicKey)
            #expect(key.fingerprint == bank.fingerprint)
            #expect(key.fingerprint.count == 40 && key.fingerprint == key.fingerprint.uppercased())
            for bad in [
                "not a key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
                try bank.secretKey, try bank.publicKey + other.publicKey,
            ] {
                do {
                    _ = try await opener.inspect(publicKey: bad)
                    Issue.record("an unusable key was accepted")
                } catch let error as IntakeError {
                    #expect(error.code == .unusableKey, "\(error.message)")
                }
            }
            // A key that cannot sign (a certify-only primary, no signing subkey): no file could ever be signed with it.
            _ = try Bank.gpg(other.home, ["--passphrase", "", "--quick-gen-key", "Cert Only <c@x.example>", "ed25519", "cert", "never"])
            let certOnly = String(decoding: try Bank.gpg(other.home, ["--armor", "--export", "Cert Only"]), as: UTF8.self)
            do {
                _ = try await opener.inspect(publicKey: certOnly)
                Issue.record("a key that cannot sign was accepted")
            } catch let error as IntakeError {
                #expect(error.code == .unusableKey, "\(error.message)")
            }
        }
    }

    @Test("gpg missing, or silent past the deadline (running a command, or decrypting), is unavailable; the hung gpg is killed")
    func unavailable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("file.csv.gpg", [1, 2, 3])
        let key = TenantSigningKey(fingerprint: String(repeating: "A", count: 40), armored: "")
        let missing = GnuPGOpener(home: directory.file("vigil"), gpg: "/nonexistent/gpg")
        do {
            _ = try await missing.open(file: file, signer: key) { _ in }
            Issue.record("opened without gpg")
        } catch let error as IntakeError {
            #expect(error.code == .unavailable, "\(error.message)")
        }
        do {
            _ = try await missing.intakePublicKey()
            Issue.record("an intake key without gpg")
        } catch {
            #expect(error.code == .unavailable, "\(error.message)")
        }
        // A "gpg" that never answers: the script becomes a sleep whose argument no other process has. Whether it is
        // killed as the script or as the sleep, it is the opener's own child, reaped before the call returns.
        let marker = "60.\(UInt32.random(in: 100_000...999_999))"
        let hung = try directory.write("hung-gpg", Array("#!/bin/sh\nexec sleep \(marker)\n".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hung)
        let hanging = GnuPGOpener(home: directory.file("vigil"), gpg: hung, deadline: .milliseconds(300))
        do {
            _ = try await hanging.intakePublicKey()
            Issue.record("a hung gpg answered")
        } catch {
            #expect(error.code == .unavailable, "\(error.message)")
        }
        #expect(processes(mentioning: marker).isEmpty && processes(mentioning: hung).isEmpty, "the hung gpg was left running")

        // A "gpg" that imports the tenant's key, then goes silent while decrypting: open's own deadline.
        let silentMarker = "60.\(UInt32.random(in: 100_000...999_999))"
        let script = [
            "#!/bin/sh",
            "case \"$*\" in *--import*) echo \"[GNUPG:] IMPORT_OK 1 \(key.fingerprint)\" >&3; exit 0 ;; esac",
            "echo '[GNUPG:] BEGIN_DECRYPTION' >&3",
            "exec sleep \(silentMarker)",
        ]
        let silent = try directory.write("silent-gpg", Array((script.joined(separator: "\n") + "\n").utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: silent)
        let stalled = GnuPGOpener(home: directory.file("vigil"), gpg: silent, deadline: .milliseconds(400))
        var received = 0
        do {
            _ = try await stalled.open(file: file, signer: key) { received += $0.count }
            Issue.record("a silent gpg's file opened")
        } catch let error as IntakeError {
            #expect(error.code == .unavailable, "\(error.message)")
        }
        #expect(received == 0)
        #expect(
            processes(mentioning: silentMarker).isEmpty && processes(mentioning: silent).isEmpty, "the silent gpg was left running")
    }
}
