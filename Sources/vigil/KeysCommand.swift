import ArgumentParser
import Foundation
import VigilProtection
import VigilServer

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage keys: the token-signing keys.", subcommands: [Rotate.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate a key while the server runs.",
            discussion: """
                With --signing: adds a new token-signing key, prints its kid (the only line on stdout) and signs new \
                tokens with it from now on. Tokens signed by older keys keep working until they expire; a key is \
                removed by the first rotation after its successor is more than 24 h 5 min old. A running server \
                picks the change up within a second.
                """
        )

        @Flag(help: "Rotate the token-signing key.") var signing = false
        @Option(help: "Algorithm of the new signing key: ES256 (default) or EdDSA.") var alg: String = SigningAlgorithm.es256.rawValue
        @OptionGroup var server: ServerDataOptions

        func run() async throws {
            guard signing else {
                throw CLIError("keys rotate: only --signing (the token-signing key) can be rotated in this version")
            }
            let algorithm = try parseAlgorithm(alg)
            let configuration = try server.configuration()
            // A mistyped path must not quietly grow a new data directory with keys no server uses.
            guard FileManager.default.fileExists(atPath: configuration.dataDirectory) else {
                throw CLIError("keys rotate: data directory \(configuration.dataDirectory) does not exist")
            }
            do {
                let rotation = try SigningKeyStore(dataDirectory: configuration.dataDirectory).rotate(
                    algorithm, provider: configuration.masterKeyProvider, now: Int64(Date().timeIntervalSince1970)
                )
                print(rotation.key.kid)
                for key in rotation.retired {
                    FileHandle.standardError.write(Data("vigil: retired signing key \(key.kid); every token it signed has expired\n".utf8))
                }
            } catch {
                throw CLIError("keys rotate: \(error)")
            }
        }
    }
}

/// Where the server keeps its data and what it expects of tokens, read as `vigil serve` reads them: the config
/// file, then `VIGIL_*` variables, then `--data-dir`.
struct ServerDataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String?
    @Option(help: "The server's JSON config file, for its data directory, master-key source, token issuer and audience.")
    var config: String?

    func configuration() throws -> VigilConfiguration {
        var configuration = VigilConfiguration()
        do {
            if let config { configuration = try VigilConfiguration.load(file: config) }
            try configuration.applyEnvironment()
            if let dataDir { configuration.dataDirectory = dataDir }
        } catch {
            throw CLIError("configuration: \(error)")
        }
        return configuration
    }
}

func parseAlgorithm(_ text: String) throws -> SigningAlgorithm {
    guard let algorithm = SigningAlgorithm(rawValue: text) else {
        throw CLIError("--alg must be \(SigningAlgorithm.allCases.map(\.rawValue).joined(separator: " or "))")
    }
    return algorithm
}
