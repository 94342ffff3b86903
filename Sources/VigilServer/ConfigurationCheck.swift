import Foundation
public import VigilEngine
import VigilProtection

/// What `vigil serve` reads from its configuration before it touches the data directory: the settings checked
/// together, the TLS material and the model. `buildApplication` starts from it and `vigil config check` stops at
/// it, so a configuration that passes the check fails at start only for what needs the running system (a port in
/// use, a data directory that cannot be written).
public struct ConfigurationCheck: Sendable {
    /// The TLS material, loaded; nil when the server speaks plain HTTP.
    public let tls: ServerTLS?
    /// The model the server would score with.
    public let model: ModelBundle
    /// What the data directory holds now: nil when it is ready, else why `vigil serve` would set it up first.
    public let dataDirectoryState: UnusableDataDirectory?

    /// Runs every check `vigil serve` runs before its first write. Reads files; creates, binds and writes nothing.
    public init(_ configuration: VigilConfiguration) throws(StartupError) {
        do {
            try configuration.validate()
            tls = try ServerTLS.load(configuration)
        } catch {
            throw StartupError(description: "configuration: \(error)")
        }
        if configuration.masterKeySource == .env {
            do {
                _ = try EnvironmentKeyProvider().masterKey()
            } catch {
                throw StartupError(description: "master key (masterKeySource env): \(error)")
            }
        }
        do {
            model = try configuration.modelPath.map { try ModelBundle.load(path: $0) } ?? ModelBundle.bundled()
        } catch {
            throw StartupError(description: "model: \(error)")
        }
        do {
            try UnusableDataDirectory.check(configuration.dataDirectory)
            dataDirectoryState = nil
        } catch {
            guard error.reason != .notADirectory else {
                throw StartupError(description: "configuration: \(error)")
            }
            dataDirectoryState = error
        }
    }
}
