import Foundation

extension IntakeError.Code {
    /// PGP intake is off (`intakePGP off`) and the file is PGP, or a PGP-only operation was asked for: refused.
    public static let pgpOff = IntakeError.Code(value: "pgp-off")
}

/// The embedded default opener, for PGP intake off (`intakePGP off`): streams a plain file to the parser in chunks.
/// A file that is PGP (a name ending `.gpg` or `.pgp`, or content starting like an armoured block or a PGP packet)
/// is refused rather than parsed as garbage: it needs `intakePGP gpg`.
public struct PlaintextOpener: FileOpener {
    /// Bytes handed to the parser at a time.
    public var chunkBytes: Int

    public init(chunkBytes: Int = 256 << 10) {
        precondition(chunkBytes > 0)
        self.chunkBytes = chunkBytes
    }

    static let off = "PGP intake is off; this Vigil takes plain CSV files (set intakePGP to gpg to take encrypted, signed files)"

    public func open(file path: String, signer: TenantSigningKey?, _ body: (ArraySlice<UInt8>) async throws -> Void) async throws -> OpenedFile {
        let lower = path.lowercased()
        if lower.hasSuffix(".gpg") || lower.hasSuffix(".pgp") {
            throw IntakeError(.pgpOff, Self.off + "; send the file unencrypted, without the .gpg suffix")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IntakeError(.io, "cannot open the received file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // Reads at least 64 bytes at a time, so the PGP check sees a packet header or armour line whole.
        var buffer = [UInt8](repeating: 0, count: max(chunkBytes, 64))
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IntakeError(.io, "cannot read the received file: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            if total == 0, Self.looksLikePGP(buffer[..<n]) {
                throw IntakeError(.pgpOff, Self.off + "; the file's content is PGP")
            }
            total += n
            var start = 0
            while start < n {
                let end = min(n, start + chunkBytes)
                try await body(buffer[start..<end])
                start = end
            }
        }
        return OpenedFile(signer: nil, plaintextBytes: total)
    }

    public func intakePublicKey() async throws(IntakeError) -> String {
        throw IntakeError(.pgpOff, "PGP intake is off (intakePGP off): there is no intake key; set intakePGP to gpg")
    }

    public func inspect(publicKey armored: String) async throws(IntakeError) -> TenantSigningKey {
        throw IntakeError(.pgpOff, "PGP intake is off (intakePGP off): keys cannot be checked; set intakePGP to gpg")
    }

    /// Whether `start` begins like ASCII armour or an OpenPGP packet (RFC 9580 §4.2: the first byte has its top bit
    /// set and names a packet an encrypted or signed message starts with). CSV text, a UTF-8 byte-order mark
    /// included, never does.
    static func looksLikePGP(_ start: ArraySlice<UInt8>) -> Bool {
        if start.starts(with: "-----BEGIN PGP ".utf8) { return true }
        guard let first = start.first, first & 0x80 != 0 else { return false }
        let tag = first & 0x40 != 0 ? first & 0x3F : (first >> 2) & 0x0F
        // Public-key and symmetric-key encrypted session keys, signatures, one-pass signatures, compressed data,
        // symmetrically encrypted data (with or without integrity protection), literal data, AEAD data.
        return [1, 2, 3, 4, 8, 9, 11, 18, 20].contains(tag)
    }
}
