import Foundation
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import PostgresNIO
public import VigilProtection

/// The control plane in PostgreSQL, for many nodes: the documents the files hold (`tenants.json`, `keys.json`,
/// `signing-keys.json`, the same JSON) as rows of `vigil_control_documents`, and the hash-chained audit log as
/// rows of `vigil_audit_log` (docs/control-plane.md).
///
/// - Changes: each read-modify-write is one transaction holding a transaction-scoped advisory lock on its
///   document, so admin verbs on any node serialise and none is lost; a change that throws rolls back.
/// - Propagation: every write bumps the row's `version`, which nodes poll every second (``stamp(_:)``).
/// - Failures: connecting and every statement are bounded by `timeout`; PostgreSQL down or slow gives a
///   ``ControlPlaneError`` with code `unavailable` within that time, never a hang. A broken connection is
///   dropped and the next call connects again.
/// - Secrets: the rows hold key hashes and keys wrapped by the master key, never the master key; the URL's
///   password is used to connect and never appears in a message or log.
///
/// Calls block; make them from a thread that is not an event loop (a server uses NIO's blocking pool). One
/// connection serves the instance; its calls take turns.
public final class PostgresControlPlane: ControlPlane {
    public let url: PostgresURL
    public let timeout: TimeAmount
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// PostgresNIO's logger: at trace it logs every backend message, rows included (key hashes, wrapped keys), so
    /// it gets warnings and worse whatever the server's level.
    let driverLogger: Logger
    let connection = NIOLockedValueBox<PostgresConnection?>(nil)
    let nextConnectionID = NIOLockedValueBox(0)

    /// The connection of the transaction running on this thread, so that a read made inside an update (the key
    /// store reading the tenants while it holds the keys) joins it instead of waiting for the lock it holds.
    @TaskLocal static var current: Transaction?

    struct Transaction: Sendable {
        let owner: ObjectIdentifier
        let connection: PostgresConnection
    }

    /// Connects to `url`, applies the schema migrations this Vigil needs, and returns the control plane.
    ///
    /// - Parameter timeout: How long connecting, and each statement, may take before the call fails.
    /// - Throws: ``ControlPlaneError`` (`unavailable` when PostgreSQL does not answer in time or refuses the
    ///   connection; `io` when a migration fails).
    public static func open(
        _ url: PostgresURL, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "vigil.control-plane"),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws -> PostgresControlPlane {
        let plane = PostgresControlPlane(
            url: url, timeout: timeout, logger: logger, eventLoopGroup: eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        )
        try await NIOThreadPool.singleton.runIfActive { try plane.migrate() }
        return plane
    }

    init(url: PostgresURL, timeout: Duration, logger: Logger, eventLoopGroup: any EventLoopGroup) {
        self.url = url
        self.timeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        self.logger = logger
        var driverLogger = logger
        driverLogger.logLevel = max(logger.logLevel, .warning)
        self.driverLogger = driverLogger
        self.eventLoopGroup = eventLoopGroup
    }

    deinit {
        if let open = connection.withLockedValue({ $0 }) { Self.discard(open) }
    }

    /// Closes the connection; the next call would open another.
    public func close() {
        let open = connection.withLockedValue { value in
            defer { value = nil }
            return value
        }
        if let open { Self.discard(open) }
    }

    public var location: String { url.description }

    public func location(of document: ControlDocument) -> String {
        "\(url) (document \(document.name))"
    }

    // MARK: - Documents

    public func read(_ document: ControlDocument) throws -> [UInt8]? {
        try withConnection { connection in
            let rows = try run(connection, "SELECT body::text FROM vigil_control_documents WHERE name = \(document.name)")
            guard let row = rows.first else { return nil }
            return Array(try decode(row, String.self).utf8)
        }
    }

    public func update<T>(_ document: ControlDocument, _ change: ([UInt8]?) throws -> (ControlDocumentChange, T)) throws -> T {
        try transaction { connection in
            _ = try run(connection, "SELECT pg_advisory_xact_lock(hashtext(\("vigil:" + document.name)))")
            let rows = try run(connection, "SELECT body::text FROM vigil_control_documents WHERE name = \(document.name)")
            let current = try rows.first.map { Array(try decode($0, String.self).utf8) }
            let (outcome, result) = try change(current)
            if case .write(let bytes) = outcome {
                guard let body = String(validating: bytes, as: UTF8.self) else {
                    throw ControlPlaneError(.malformed, "\(location(of: document)): a document must be UTF-8 JSON")
                }
                _ = try run(
                    connection,
                    """
                    INSERT INTO vigil_control_documents (name, body, version) VALUES (\(document.name), \(body)::jsonb, 1)
                    ON CONFLICT (name) DO UPDATE
                    SET body = EXCLUDED.body, version = vigil_control_documents.version + 1, updated_at = now()
                    """
                )
            }
            return result
        }
    }

    public func stamp(_ document: ControlDocument) throws -> ControlDocumentStamp {
        try withConnection { connection in
            let rows = try run(connection, "SELECT version FROM vigil_control_documents WHERE name = \(document.name)")
            guard let row = rows.first else { return .absent }
            return ControlDocumentStamp([try decode(row, Int64.self)])
        }
    }

    // MARK: - Audit log

    public func appendAudit(_ makeLine: ([UInt8]?) throws -> [UInt8]) throws {
        try transaction { connection in
            _ = try run(connection, "SELECT pg_advisory_xact_lock(hashtext('vigil:audit'))")
            let rows = try run(connection, "SELECT seq, line FROM vigil_audit_log ORDER BY seq DESC LIMIT 1")
            let last = try rows.first.map { try decode($0, (Int64, String).self) }
            let line = try makeLine(last.map { Array($0.1.utf8) })
            guard let text = String(validating: line, as: UTF8.self) else {
                throw ControlPlaneError(.malformed, "an audit record must be UTF-8 JSON")
            }
            let sequence = (last?.0 ?? 0) + 1
            _ = try run(connection, "INSERT INTO vigil_audit_log (seq, line) VALUES (\(sequence), \(text))")
        }
    }

    public func auditRecords(_ body: ([UInt8]) throws -> Void) throws {
        let lines = try withConnection { connection in
            try run(connection, "SELECT line FROM vigil_audit_log ORDER BY seq").map { Array(try decode($0, String.self).utf8) }
        }
        for line in lines { try body(line) }
    }

    // MARK: - Schema migrations

    /// One schema change, applied once, in its own transaction, recorded in `vigil_schema_migrations`.
    struct Migration: Sendable {
        let version: Int32
        let name: String
        let statements: [String]
    }

    /// Append only: a released migration never changes, a new one gets the next version.
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "control documents and audit log",
            statements: [
                """
                CREATE TABLE vigil_control_documents (
                    name text PRIMARY KEY,
                    body jsonb NOT NULL,
                    version bigint NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                """
                CREATE TABLE vigil_audit_log (
                    seq bigint PRIMARY KEY,
                    line text NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT now()
                )
                """,
            ]
        ),
        Migration(
            version: 2, name: "daily-file metadata",
            statements: [
                """
                CREATE TABLE vigil_files (
                    tenant text NOT NULL,
                    id text NOT NULL,
                    hash text NOT NULL,
                    status text NOT NULL,
                    received_at bigint NOT NULL,
                    body jsonb NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (tenant, id)
                )
                """,
                "CREATE INDEX vigil_files_received ON vigil_files (received_at, tenant, id)",
            ]
        ),
    ]

    /// Applies every migration the database lacks. Nodes starting together take turns on an advisory lock, so
    /// each migration runs once.
    func migrate() throws {
        for migration in Self.migrations {
            try transaction { connection in
                _ = try run(connection, "SELECT pg_advisory_xact_lock(hashtext('vigil:migrations'))")
                _ = try run(
                    connection,
                    """
                    CREATE TABLE IF NOT EXISTS vigil_schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """
                )
                let applied = try run(connection, "SELECT 1 FROM vigil_schema_migrations WHERE version = \(migration.version)")
                guard applied.isEmpty else { return }
                for statement in migration.statements {
                    _ = try run(connection, PostgresQuery(unsafeSQL: statement))
                }
                _ = try run(
                    connection, "INSERT INTO vigil_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))"
                )
                logger.notice(
                    "Applied a control-plane schema migration",
                    metadata: ["vigil.control_plane.migration": .stringConvertible(migration.version)]
                )
            }
        }
    }

    // MARK: - Connection, transactions, time limits

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. Inside another
    /// transaction of this instance on the same thread, `body` joins it.
    func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if let current = Self.current, current.owner == ObjectIdentifier(self) { return try body(current.connection) }
        return try withConnection { connection in
            _ = try run(connection, "BEGIN")
            let result: T
            do {
                result = try Self.$current.withValue(Transaction(owner: ObjectIdentifier(self), connection: connection)) {
                    try body(connection)
                }
            } catch {
                do {
                    _ = try run(connection, "ROLLBACK")
                } catch {
                    // The connection's state is unknown: the next call makes a new one.
                    Self.discard(connection)
                }
                throw error
            }
            _ = try run(connection, "COMMIT")
            return result
        }
    }

    /// Runs `body` with this instance's connection, made first when there is none, and holds it meanwhile. A
    /// connection that failed or timed out is closed and dropped, so the next call starts clean.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if let current = Self.current, current.owner == ObjectIdentifier(self) { return try body(current.connection) }
        return try connection.withLockedValue { held in
            let open: PostgresConnection
            if let held, !held.isClosed {
                open = held
            } else {
                open = try connect()
                held = open
            }
            do {
                return try body(open)
            } catch let error as ControlPlaneError where error.code == .unavailable {
                Self.discard(open)
                held = nil
                throw error
            }
        }
    }

    func connect() throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable
        )
        configuration.options.connectTimeout = timeout
        let id = nextConnectionID.withLockedValue { id in
            id += 1
            return id
        }
        let future = PostgresConnection.connect(
            on: eventLoopGroup.any(), configuration: configuration, id: id, logger: driverLogger
        )
        do {
            return try bounded(future, "connecting")
        } catch let error as ControlPlaneError {
            // A connection that arrives after its time ran out is closed at once.
            future.whenSuccess { Self.discard($0) }
            throw error
        }
    }

    /// Closes a connection without waiting for it; the connection is kept until it has closed, as PostgresNIO
    /// requires.
    static func discard(_ connection: PostgresConnection) {
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    func run(_ connection: PostgresConnection, _ query: PostgresQuery) throws -> [PostgresRow] {
        try bounded(connection.query(query, logger: driverLogger), "a query").rows
    }

    func decode<each Column: PostgresDecodable>(_ row: PostgresRow, _ type: (repeat each Column).Type) throws -> (repeat each Column) {
        do {
            return try row.decode(type)
        } catch {
            throw ControlPlaneError(.malformed, "\(url): a control-plane row is not what this Vigil wrote")
        }
    }

    /// Waits for `future` at most `timeout`; a failure or a time-out becomes a ``ControlPlaneError`` naming the
    /// server (never the password).
    func bounded<T: Sendable>(_ future: EventLoopFuture<T>, _ what: String) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        let limit = timeout
        let (url, seconds) = (url, Double(limit.nanoseconds) / 1e9)
        let timer = future.eventLoop.scheduleTask(in: limit) {
            promise.fail(ControlPlaneError(.unavailable, "PostgreSQL at \(url) did not answer \(what) within \(seconds) s"))
        }
        defer { timer.cancel() }
        do {
            return try promise.futureResult.wait()
        } catch let error as ControlPlaneError {
            throw error
        } catch let error as PSQLError {
            throw Self.translate(error, url: url, what: what)
        } catch {
            throw ControlPlaneError(.unavailable, "PostgreSQL at \(url) failed \(what): \(error)")
        }
    }

    /// PostgresNIO hides an error's details from `description`; this keeps the server's message and the SQL state
    /// (which name no secret) and the connection failure, and leaves out the query and its values.
    static func translate(_ error: PSQLError, url: PostgresURL, what: String) -> ControlPlaneError {
        if let server = error.serverInfo {
            let message = server[.message] ?? "an error"
            let state = server[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            // Authentication and a missing database are the server refusing the connection.
            let refused = ["28P01", "28000", "3D000"].contains(server[.sqlState] ?? "")
            return ControlPlaneError(refused ? .unavailable : .io, "PostgreSQL at \(url) refused \(what): \(message)\(state)")
        }
        let cause = error.underlying.map { ": \($0)" } ?? ""
        return ControlPlaneError(.unavailable, "PostgreSQL at \(url) failed \(what) (\(error.code))\(cause)")
    }
}
