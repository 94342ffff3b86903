import Foundation
import Testing
import VigilFiles
import VigilIntake

#if canImport(Glibc)
import Glibc
#endif

/// Against the real clamd of `scripts/test-servers` (EICAR signature database, 32 MiB stream limit).
@Suite("ClamdScanner")
struct ClamdScannerTests {
    static func addresses() throws -> [ClamdScanner.Address] {
        [
            try ClamdScanner.Address(parsing: TestServers.variable("VIGIL_TEST_CLAMD_SOCKET")),
            try ClamdScanner.Address(parsing: TestServers.variable("VIGIL_TEST_CLAMD_TCP")),
        ]
    }

    @Test("a clean file is clean, on the unix socket and on TCP")
    func clean() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("history.csv", Array("paymentId,amount\np-1,10.00\n".utf8))
        for address in try Self.addresses() {
            #expect(try await ClamdScanner(address: address).scan(file: file) == .clean)
        }
    }

    @Test("EICAR is found with its signature name, alone and inside a larger file across chunk boundaries")
    func eicarFound() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let alone = try directory.write("eicar.com", eicar)
        let padded = [UInt8](repeating: UInt8(ascii: "a"), count: 100_003) + eicar + [UInt8](repeating: UInt8(ascii: "b"), count: 50_000)
        let inside = try directory.write("big.csv", padded)
        for address in try Self.addresses() {
            for (file, chunkSize) in [(alone, 64 * 1024), (inside, 1000), (inside, 64 * 1024)] {
                let verdict = try await ClamdScanner(address: address, chunkSize: chunkSize).scan(file: file)
                guard case .infected(let signature) = verdict else {
                    Issue.record("EICAR not found at \(address): \(verdict)")
                    continue
                }
                // clamd names a signature from a local database NAME.UNOFFICIAL.
                #expect(signature.hasPrefix("Eicar-Test-Signature"), "\(signature)")
            }
        }
    }

    @Test("a file over clamd's StreamMaxLength is unavailable, naming the setting, never clean")
    func overStreamLimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("huge.csv")
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: 33 << 20)  // sparse: 33 MiB of zeros over the test clamd's 32 MiB
        try handle.close()
        do {
            let verdict = try await ClamdScanner(address: try Self.addresses()[0]).scan(file: file)
            Issue.record("an over-limit file was scanned: \(verdict)")
        } catch let error as IntakeError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("StreamMaxLength"), "\(error.message)")
        }
    }

    @Test("no clamd (a missing socket, a closed port) is unavailable at once")
    func unreachable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("history.csv", Array("a\n".utf8))
        for address in [ClamdScanner.Address.unix(path: directory.file("no.sock")), try .init(parsing: "tcp://127.0.0.1:1")] {
            do {
                let verdict = try await ClamdScanner(address: address).scan(file: file)
                Issue.record("scanned without clamd: \(verdict)")
            } catch {
                #expect(error.code == .unavailable, "\(error.message)")
            }
        }
    }

    @Test("a clamd that accepts but never answers is unavailable after the deadline")
    func silent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("history.csv", Array("a\n".utf8))
        // A listening socket nobody accepts on: connect succeeds (the backlog), the answer never comes.
        let path = directory.file("silent.sock")
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 4) == 0)
        do {
            let verdict = try await ClamdScanner(address: .unix(path: path), deadline: .milliseconds(300)).scan(file: file)
            Issue.record("a silent clamd gave \(verdict)")
        } catch {
            #expect(error.code == .unavailable, "\(error.message)")
        }
    }

    @Test("clamd stopped: a scanner that worked is unavailable once its clamd is gone")
    func clamdStopped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TestServers.variable("VIGIL_TEST_CLAMD_DB")
        let socketPath = directory.file("clamd.sock")
        try Data(
            "Foreground yes\nDatabaseDirectory \(database)\nLocalSocket \(socketPath)\nUser root\nLogFile \(directory.file("clamd.log"))\n"
                .utf8
        ).write(to: URL(fileURLWithPath: directory.file("clamd.conf")))
        let clamd = Process()
        clamd.executableURL = URL(fileURLWithPath: "/usr/sbin/clamd")
        clamd.arguments = ["-c", directory.file("clamd.conf")]
        clamd.standardOutput = FileHandle.nullDevice
        clamd.standardError = FileHandle.nullDevice
        try clamd.run()
        defer {
            if clamd.isRunning {
                kill(clamd.processIdentifier, SIGKILL)
                clamd.waitUntilExit()
            }
        }
        // Ready when its socket exists; bounded by iterations, not by time.
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: socketPath) && clamd.isRunning {
            try await Task.sleep(for: .milliseconds(25))
        }
        let scanner = ClamdScanner(address: .unix(path: socketPath), deadline: .seconds(5))
        let eicarFile = try directory.write("eicar.com", eicar)
        guard case .infected = try await scanner.scan(file: eicarFile) else {
            Issue.record("the test's own clamd did not find EICAR")
            return
        }
        clamd.terminate()
        clamd.waitUntilExit()
        do {
            let verdict = try await scanner.scan(file: eicarFile)
            Issue.record("scanned after clamd stopped: \(verdict)")
        } catch {
            #expect(error.code == .unavailable, "\(error.message)")
        }
    }

    @Test("addresses: socket paths and tcp://HOST:PORT; anything else is refused")
    func addresses() throws {
        #expect(try ClamdScanner.Address(parsing: "/run/clamav/clamd.ctl") == .unix(path: "/run/clamav/clamd.ctl"))
        #expect(try ClamdScanner.Address(parsing: "unix:clamd.sock") == .unix(path: "clamd.sock"))
        #expect(try ClamdScanner.Address(parsing: "tcp://127.0.0.1:3310") == .tcp(host: "127.0.0.1", port: 3310))
        #expect(try ClamdScanner.Address(parsing: "tcp://[::1]:3310") == .tcp(host: "::1", port: 3310))
        for bad in ["clamd", "tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://:3310", "http://127.0.0.1:3310"] {
            #expect(throws: IntakeError.self) { try ClamdScanner.Address(parsing: bad) }
        }
    }
}
