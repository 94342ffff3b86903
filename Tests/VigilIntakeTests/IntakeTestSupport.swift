import Foundation
import VigilFiles

/// The clamd `scripts/test-servers start` runs, found through the environment it writes.
enum TestServers {
    struct Missing: Error, CustomStringConvertible {
        var variable: String
        var description: String {
            "\(variable) is not set, so the clamd tests have no server. Start it with `scripts/test-servers start` (or "
                + "`start clamd`), then `. ${TMPDIR:-/tmp}/vigil-test-servers/env` before `swift test` (scripts/test does both)."
        }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }
}

/// A fresh directory for one test, removed by `remove()`. Short paths: gpg-agent's socket lives in a GNUPGHOME.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        path = base + "/vi-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The EICAR anti-virus test file: harmless, detected by every scanner (and by the test clamd's signature database).
let eicar = Array(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8)

/// A bank's own GnuPG, made with the real `gpg` in its own home: what a tenant does to send Vigil a file.
struct Bank {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let home: String
    let fingerprint: String

    /// Creates the bank's key (ed25519 signing primary, cv25519 encryption subkey) in `home`.
    static func make(home: String, name: String) throws -> Bank {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let uid = "\(name) <files@\(name.lowercased()).example>"
        _ = try gpg(home, ["--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign,cert", "never"])
        let listing = String(decoding: try gpg(home, ["--with-colons", "--list-secret-keys"]), as: UTF8.self)
        guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }) else {
            throw Failure(description: "no fingerprint in \(listing)")
        }
        let fingerprint = String(line.split(separator: ":", omittingEmptySubsequences: false)[9])
        _ = try gpg(home, ["--passphrase", "", "--quick-add-key", fingerprint, "cv25519", "encr", "never"])
        return Bank(home: home, fingerprint: fingerprint)
    }

    /// Runs gpg in `home` and returns its stdout; fails on a non-zero exit. `input` goes through a file (the last
    /// argument), so a large input never fills a pipe gpg is not reading yet.
    @discardableResult
    static func gpg(_ home: String, _ arguments: [String], input: [UInt8]? = nil) throws -> [UInt8] {
        var arguments = arguments
        var inputFile: String?
        if let input {
            let path = home + "/input-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try Data(input).write(to: URL(fileURLWithPath: path))
            arguments.append(path)
            inputFile = path
        }
        defer { if let inputFile { try? FileManager.default.removeItem(atPath: inputFile) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gpg")
        process.arguments = ["--homedir", home, "--batch", "--no-tty", "--trust-model", "always"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // gpg's messages are short; its output is read whole first.
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        let messages = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "gpg \(arguments) exited \(process.terminationStatus): \(String(decoding: messages, as: UTF8.self))")
        }
        return Array(bytes)
    }

    var publicKey: String { get throws { String(decoding: try Bank.gpg(home, ["--armor", "--export", fingerprint]), as: UTF8.self) } }
    var secretKey: String {
        get throws {
            String(decoding: try Bank.gpg(home, ["--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", fingerprint]), as: UTF8.self)
        }
    }

    /// Imports a recipient's armoured public key (Vigil's intake key).
    func trust(_ armored: String) throws { try Bank.gpg(home, ["--import"], input: Array(armored.utf8)) }

    /// `plaintext` as the bank would send it: signed and/or encrypted to `recipient` (a fingerprint or user id).
    func seal(_ plaintext: [UInt8], to recipient: String?, sign: Bool, armor: Bool = false) throws -> [UInt8] {
        var arguments = armor ? ["--armor"] : []
        if sign { arguments += ["--local-user", fingerprint, "--sign"] }
        if let recipient { arguments += ["--recipient", recipient, "--encrypt"] }
        return try Bank.gpg(home, arguments + ["--output", "-"], input: plaintext)
    }

    /// Stops the gpg-agent of the bank's home.
    func shutdown() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gpgconf")
        process.arguments = ["--homedir", home, "--kill", "all"]
        try? process.run()
        process.waitUntilExit()
    }
}

/// The processes whose command line mentions `text` (e.g. a gpg-agent of a given home).
func processes(mentioning text: String) -> [Int32] {
    let own = ProcessInfo.processInfo.processIdentifier
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
        guard let pid = Int32(entry), pid != own,
            let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { return nil }
        let words = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.contains { $0.contains(text) } ? pid : nil
    }
}
