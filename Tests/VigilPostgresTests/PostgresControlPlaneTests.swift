import Foundation
import Logging
import Synchronization
import PostgresNIO
import Testing
import VigilPostgres
import VigilProtection
import VigilServer

/// What only the PostgreSQL control plane has: its address, its schema migrations and its time limits.
@Suite(.timeLimit(.minutes(1)))
struct PostgresControlPlaneTests {
    @Test func migrationsAreAppliedOnceHoweverManyNodesStart() async throws {
        let url = try await freshDatabase()
        async let first = PostgresControlPlane.open(url)
        async let second = PostgresControlPlane.open(url)
        _ = try await (first, second)
        _ = try await PostgresControlPlane.open(url)
        let versions = try await withRawConnection(url) { connection in
            var versions: [Int32] = []
            for try await version in try await connection.query("SELECT version FROM vigil_schema_migrations ORDER BY version", logger: testLogger)
                .decode(Int32.self)
            {
                versions.append(version)
            }
            return versions
        }
        #expect(versions == [1, 2])
    }

    /// A server that accepts the connection and never answers (PostgreSQL hung, or a black-holed port): the
    /// call fails with `unavailable` once the time limit has passed, instead of waiting for ever.
    @Test func aServerThatNeverAnswersGivesABoundedError() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let url = PostgresURL(user: "vigil", password: "s3cret-canary", host: "127.0.0.1", port: listener.port, database: "vigil")
        await #expect {
            _ = try await PostgresControlPlane.open(url, timeout: .milliseconds(500))
        } throws: { error in
            guard let error = error as? ControlPlaneError else { return false }
            // Usually the start-up message goes unanswered; on a loaded machine the connection itself may not be
            // set up within the limit. Either way the call is bounded, `unavailable`, and shows no password.
            let bounded = error.message.contains("did not answer") || error.message.contains("Connect timeout")
            return error.code == .unavailable && bounded && !error.message.contains("s3cret-canary")
        }
    }

    @Test func aClosedPortGivesABoundedError() async throws {
        let port = try SilentListener().closedPort()
        let url = PostgresURL(user: "vigil", password: "s3cret-canary", host: "127.0.0.1", port: port, database: "vigil")
        await #expect {
            _ = try await PostgresControlPlane.open(url, timeout: .seconds(2))
        } throws: { error in
            guard let error = error as? ControlPlaneError else { return false }
            return error.code == .unavailable && error.message.contains("127.0.0.1:\(port)") && !error.message.contains("s3cret-canary")
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutEchoingIt() async throws {
        var url = try testServerURL()
        url.password = "wrong-canary"
        await #expect {
            _ = try await PostgresControlPlane.open(url, timeout: .seconds(5))
        } throws: { error in
            guard let error = error as? ControlPlaneError else { return false }
            return error.code == .unavailable && error.message.contains("28P01") && !error.message.contains("wrong-canary")
        }
    }

    /// An admin verb on a shared control plane with no master key, or another one, is refused before it writes:
    /// keys wrapped with a key no node has would be lost.
    @Test func anAdminVerbWithoutTheRightMasterKeyIsRefusedBeforeItWrites() async throws {
        let url = try await freshDatabase()
        let plane = try await PostgresControlPlane.open(url)
        _ = try Administration(plane: plane, provider: TestMasterKey(), actor: .init(name: "test")).createTenant(name: "bank-a")
        let keysBefore = try plane.read(.keys)

        var configuration = VigilConfiguration()
        configuration.dataDirectory = temporaryDirectory()
        #expect {
            _ = try Administration.open(configuration: configuration, plane: plane, actor: .init(name: "test"))
        } throws: { error in
            (error as? UnusableDataDirectory)?.reason == .noMasterKey
        }
        try AtomicFile.write(Array(String(repeating: "ab", count: 32).utf8), to: configuration.dataDirectory + "/master.key", mode: 0o600)
        #expect {
            _ = try Administration.open(configuration: configuration, plane: plane, actor: .init(name: "test"))
        } throws: { error in
            guard case .unreachableControlPlane(let why)? = (error as? UnusableDataDirectory)?.reason else { return false }
            return why.contains("does not open with this master key")
        }
        #expect(try plane.read(.keys) == keysBefore)

        let empty = try await PostgresControlPlane.open(try await freshDatabase())
        #expect {
            _ = try Administration.open(configuration: configuration, plane: empty, actor: .init(name: "test"))
        } throws: { error in
            (error as? UnusableDataDirectory)?.reason == .uninitialisedControlPlane
        }
    }

    /// At trace level PostgresNIO logs every backend message it receives, rows included (their bytes: key hashes,
    /// wrapped keys). Vigil's own lines keep the server's level; the driver's get warnings and worse only.
    @Test func theDriverLogsNoRowsEvenAtTraceLevel() async throws {
        let url = try await freshDatabase()
        let lines = LogLines()
        var logger = Logger(label: "trace") { _ in lines.handler() }
        logger.logLevel = .trace
        let plane = try await PostgresControlPlane.open(url, logger: logger)
        let key = try Administration(plane: plane, provider: TestMasterKey(), actor: .init(name: "test")).createTenant(name: "bank-a")
        let keys = String(decoding: try #require(try plane.read(.keys)), as: UTF8.self)
        let wrapped = try #require(keys.firstMatch(of: /"wrapped" *: *"([0-9a-f]+)"/)?.1)
        let text = lines.text
        #expect(text.contains("migration"))
        #expect(!text.contains("Backend message received"))
        for secret in [APIKey.hash(key), String(wrapped), url.password ?? "-"] {
            #expect(!text.contains(secret))
        }
    }

    @Test func aNodeReconnectsAfterItsConnectionIsKilled() async throws {
        let url = try await freshDatabase()
        let plane = try await PostgresControlPlane.open(url)
        #expect(try plane.stamp(.tenants) == .absent)
        try await withRawConnection(url) { connection in
            _ = try await connection.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(url.database) AND pid <> pg_backend_pid()",
                logger: testLogger
            )
            // Termination is a signal to the backend: wait until it has gone.
            #expect(try await eventually {
                let rows = try await connection.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = \(url.database) AND pid <> pg_backend_pid()", logger: testLogger
                )
                for try await count in rows.decode(Int64.self) { return count == 0 }
                return false
            })
        }
        // A call that finds the connection dead fails (`unavailable`) and drops it; a connection already seen closed
        // is replaced before the call. Either way the node is working again by the second call.
        _ = try? plane.stamp(.tenants)
        #expect(try plane.stamp(.tenants) == .absent)
    }
}

struct PostgresURLTests {
    @Test func readsEveryPart() throws {
        let url = try PostgresURL(parsing: "postgres://vigil:p%40ss:word@db.example:6432/control")
        #expect(url == PostgresURL(user: "vigil", password: "p@ss:word", host: "db.example", port: 6432, database: "control"))
        #expect(try PostgresURL(parsing: "postgresql://u@[::1]/d") == PostgresURL(user: "u", password: nil, host: "::1", port: 5432, database: "d"))
    }

    @Test func itsDescriptionNeverHoldsThePassword() throws {
        let url = try PostgresURL(parsing: "postgres://vigil:hunter2@127.0.0.1:5432/vigil")
        #expect(url.description == "postgres://vigil@127.0.0.1:5432/vigil")
    }

    @Test(arguments: [
        "mysql://u@h:1/d", "postgres://h:5432/d", "postgres://u@h:5432", "postgres://u@h:5432/", "postgres://u@:5432/d",
        "postgres://u@h:99999/d", "postgres://u@h:x/d", "postgres://u:p%zz@h/d", "postgres://u@h/d?sslmode=require",
    ])
    func refusesAMalformedAddressNamingTheExpectedForm(_ text: String) {
        #expect {
            _ = try PostgresURL(parsing: text)
        } throws: { error in
            let message = "\(error)"
            return message.contains(PostgresURL.expectedForm) && !message.contains(text)
        }
    }
}

/// A loopback TCP socket that listens and never accepts or answers.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Closes the socket and returns its port, on which nothing listens any more.
    func closedPort() -> Int {
        close()
        return port
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

/// Every line logged through ``handler()``, with its metadata.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func handler() -> Handler { Handler(lines: self) }

    /// A value, like the server's own handler: a copy of a logger gets a level of its own.
    struct Handler: LogHandler {
        let lines: LogLines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
        }
    }
}
