import ArgumentParser
import Foundation
import VigilProtection
import VigilServer

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage keys: tenants' data keys and the token-signing keys.", subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate keys while the server runs: tenants' data keys, or with --signing the token-signing key.",
            discussion: """
                Without --signing: adds a new data-key version for --tenant T (or every tenant), printing one \
                'TENANT: data key version N' line each. New seals use it as soon as a running server reloads keys.json \
                (within a second); every seal carries its key version, so what older versions sealed still opens.

                With --signing: adds a new token-signing key, prints its kid (the only line on stdout) and signs new \
                tokens with it from now on. Tokens signed by older keys keep working until they expire; a key is \
                removed by the first rotation after its successor is more than 24 h 5 min old. A running server \
                picks the change up within a second.
                """
        )

        @Flag(help: "Rotate the token-signing key.") var signing = false
        @Option(help: "Rotate this tenant's data key only (default: every tenant's).") var tenant: String?
        @Option(help: "Algorithm of the new signing key: ES256 or EdDSA.") var alg: String = SigningAlgorithm.es256.rawValue
        @OptionGroup var server: ServerDataOptions

        func run() async throws {
            let configuration = try server.configuration()
            // A mistyped path must not quietly grow a new data directory with keys no server uses.
            let admin = try await server.administration("keys rotate", configuration)
            guard signing else {
                do {
                    for (tenant, version) in try admin.rotateDataKeys(tenant: tenant) { print("\(tenant): data key version \(version)") }
                } catch {
                    throw CLIError("keys rotate: \(error)")
                }
                return
            }
            guard tenant == nil else { throw CLIError("keys rotate: --signing rotates the server's signing key; it takes no --tenant") }
            let algorithm = try parseAlgorithm(alg)
            do {
                let rotation = try admin.signingKeys.rotate(
                    algorithm, provider: configuration.masterKeyProvider, now: Int64(Date().timeIntervalSince1970)
                )
                try admin.record(
                    action: "keys.rotate-signing", target: nil,
                    details: [
                        "kid": rotation.key.kid, "alg": algorithm.rawValue,
                        "retired": rotation.retired.map(\.kid).joined(separator: ","),
                    ]
                )
                print(rotation.key.kid)
                for key in rotation.retired {
                    printError(("vigil: retired signing key \(key.kid); every token it signed has expired\n".utf8))
                }
            } catch {
                throw CLIError("keys rotate: \(error)")
            }
        }
    }
}

/// Where the server keeps its data and what it expects of tokens, read as `vigil serve` reads them: the config
/// file, then `VIGIL_*` variables, then `--data-dir` and `--control-plane`.
struct ServerDataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The server's data directory (default ./data); it must exist.") var dataDir: String?
    @Option(
        name: .customLong("control-plane"),
        help: ArgumentHelp(
            "The server's control plane: files (default, in the data directory) or postgres://user[:password]@host:port/db (env VIGIL_CONTROL_PLANE).",
            valueName: "url"
        )
    )
    var controlPlane: String?
    @Option(help: "The server's JSON config file, for its data directory, master-key source, token issuer and audience.")
    var config: String?

    func configuration() throws -> VigilConfiguration {
        var configuration = VigilConfiguration()
        do {
            if let config { configuration = try VigilConfiguration.load(file: config) }
            try configuration.applyEnvironment()
            if let dataDir { configuration.dataDirectory = dataDir }
            if let controlPlane { configuration.controlPlane = controlPlane }
        } catch {
            throw CLIError("configuration: \(error)")
        }
        return configuration
    }

    /// The administration of the configuration's control plane, which `vigil serve` must have set up (exit 2
    /// otherwise, before anything is written).
    func administration(_ verb: String, _ configuration: VigilConfiguration) async throws -> Administration {
        let plane = try await openControlPlane(configuration.controlPlane)
        do {
            return try Administration.open(configuration: configuration, plane: plane, actor: .currentUser())
        } catch {
            throw refuse(verb, error)
        }
    }
}

func parseAlgorithm(_ text: String) throws -> SigningAlgorithm {
    guard let algorithm = SigningAlgorithm(rawValue: text) else {
        throw CLIError("--alg must be \(SigningAlgorithm.allCases.map(\.rawValue).joined(separator: " or "))")
    }
    return algorithm
}
