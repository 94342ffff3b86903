import ArgumentParser
import Foundation
import Logging
import VigilPostgres
import VigilProtection
import VigilServer

/// Opens the control plane `text` names: nil (or `files`) for the data directory's files, which the caller
/// handles; a `postgres://` URL for PostgreSQL, whose schema migrations are applied first.
///
/// - Throws: a `CLIError` naming the expected form for a malformed address (never repeating it: it may hold a
///   password), or saying why PostgreSQL could not be used.
func openControlPlane(_ text: String?, logger: Logger? = nil) async throws -> (any ControlPlane)? {
    guard let text, !text.isEmpty, text != "files" else { return nil }
    guard PostgresURL.isPostgres(text) else {
        throw CLIError("--control-plane (VIGIL_CONTROL_PLANE, controlPlane) must be files or \(PostgresURL.expectedForm)")
    }
    let url: PostgresURL
    do {
        url = try PostgresURL(parsing: text)
    } catch {
        throw CLIError("--control-plane: \(error)")
    }
    do {
        return try await PostgresControlPlane.open(url, logger: logger ?? quietLogger())
    } catch {
        throw CLIError("control plane: \(error)")
    }
}

/// An admin verb's logger: warnings and worse to stderr, so stdout stays the verb's answer.
func quietLogger() -> Logger {
    var logger = Logger(label: "vigil.control-plane") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    return logger
}

/// The control plane of a read-only verb (`tenant list`, `audit export`): it must have been set up by `vigil serve`.
/// Exits 2 when it has not, as every admin verb does for an unusable data directory.
func readableControlPlane(_ verb: String, dataDir: String, controlPlane: String?) async throws -> any ControlPlane {
    guard let plane = try await openControlPlane(controlPlane) else {
        try requireDataDirectory(verb, dataDir)
        return FileControlPlane(directory: dataDir)
    }
    do {
        try UnusableDataDirectory.check(plane: plane)
    } catch {
        throw refuse(verb, error)
    }
    return plane
}
