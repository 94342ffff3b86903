import Crypto
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Testing
import VigilPostgres
import VigilProtection

/// The two control planes every control-plane test runs against.
enum Store: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case files
    case postgres

    var testDescription: String { rawValue }
}

struct MissingTestServer: Error, CustomStringConvertible {
    var description: String {
        "VIGIL_TEST_POSTGRES_URL is not set: run `scripts/test-servers start` and source ${TMPDIR:-/tmp}/vigil-test-servers/env"
    }
}

/// One control plane's backing store, fresh per test, from which any number of "nodes" (instances) are opened.
struct StoreFixture: Sendable {
    let store: Store
    /// The data directory (files) or the database (postgres).
    let directory: String
    let url: PostgresURL?

    static func make(_ store: Store) async throws -> StoreFixture {
        let directory = temporaryDirectory()
        switch store {
        case .files:
            return StoreFixture(store: store, directory: directory, url: nil)
        case .postgres:
            return StoreFixture(store: store, directory: directory, url: try await freshDatabase())
        }
    }

    /// A new instance on the same store, as another node would open it.
    func node(timeout: Duration = .seconds(10)) async throws -> any ControlPlane {
        switch store {
        case .files: FileControlPlane(directory: directory)
        case .postgres: try await PostgresControlPlane.open(url!, timeout: timeout)
        }
    }

    /// Replaces the `line`-th audit record's text `from` with `to`, behind Vigil's back.
    func tamperWithAudit(line: Int, replacing from: String, with to: String) async throws {
        switch store {
        case .files:
            let path = directory + "/audit.log"
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[line - 1] = lines[line - 1].replacingOccurrences(of: from, with: to)
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        case .postgres:
            try await withRawConnection(url!) { connection in
                _ = try await connection.query("UPDATE vigil_audit_log SET line = replace(line, \(from), \(to)) WHERE seq = \(Int64(line))", logger: testLogger)
            }
        }
    }
}

let testLogger = Logger(label: "vigil-postgres-test")

/// The test server's address, from `scripts/test-servers`; missing is a failure, never a skip.
func testServerURL() throws -> PostgresURL {
    guard let text = ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES_URL"] else { throw MissingTestServer() }
    return try PostgresURL(parsing: text)
}

/// A database of its own for one test, so tests running at once do not see each other's tenants.
func freshDatabase() async throws -> PostgresURL {
    var url = try testServerURL()
    let name = "vigil_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await withRawConnection(url) { connection in
        _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
    }
    url.database = name
    return url
}

func withRawConnection<T>(_ url: PostgresURL, _ body: (PostgresConnection) async throws -> T) async throws -> T {
    let connection = try await PostgresConnection.connect(
        configuration: .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable),
        id: 1, logger: testLogger
    )
    do {
        let result = try await body(connection)
        try await connection.close()
        return result
    } catch {
        try? await connection.close()
        throw error
    }
}

/// A fixed master key, as every node of a deployment shares one through its key provider.
struct TestMasterKey: KeyProvider {
    static let bytes: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xFF) }
    var name: String { "test" }
    func masterKey() throws(KeyError) -> SymmetricKey { SymmetricKey(data: Self.bytes) }
}

func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cp-" + UUID().uuidString).path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return path
}

/// Polls `condition` every 50 ms until it holds or `deadline` passes; returns whether it held. A bound on how
/// long the test waits, not an assertion on speed: generous, because under the whole suite the cooperative pool can
/// be busy for tens of seconds (CI once took more than 20 s to run a node's one-second reload poll).
func eventually(within deadline: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws -> Bool {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
