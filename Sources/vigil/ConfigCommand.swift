import ArgumentParser
import Foundation
import VigilEngine
import VigilEventLog
import VigilRedis
import VigilServer

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check a configuration file.", subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration as `vigil serve` would at start, without starting: nothing is bound or created.",
            discussion: """
                Reads FILE, applies the VIGIL_* environment variables over it as `vigil serve` does, then runs the \
                checks the server runs before its first write: every setting and the settings that go together, the \
                TLS certificate, key and client CAs, the master-key variable when masterKeySource is env, and the \
                model. Prints a summary and exits 0, or names the first problem and exits 1. A data directory that \
                does not exist yet is not an error: `vigil serve` creates it at first start.
                """
        )

        @Argument(help: "The JSON configuration file (README, Configuration; deploy/vigil.json is an example).") var file: String

        func run() async throws {
            var configuration: VigilConfiguration
            let check: ConfigurationCheck
            do {
                configuration = try VigilConfiguration.load(file: file)
                try configuration.applyEnvironment()
                check = try ConfigurationCheck(configuration)
            } catch {
                throw CLIError("config check: \(error)")
            }
            // The state store's address is parsed as `vigil serve` parses it; the store is not contacted.
            var state = "memory (this process)"
            if configuration.hasSharedState {
                do {
                    state = "\(try RedisURL(configuration.state)) (\(configuration.stateFailure.rawValue) when it fails)"
                } catch {
                    throw CLIError("config check: state: \(error.message)")
                }
            }
            var region = configuration.region ?? "none"
            if let peer = configuration.peerRegion {
                var links: [String] = []
                if let peerState = configuration.peerState {
                    do {
                        links.append("state \(try RedisURL(peerState))")
                    } catch {
                        throw CLIError("config check: peerState: \(error.message)")
                    }
                }
                if let peerStream = configuration.peerStream { links.append("stream \(peerStream)") }
                region += " (peer \(peer)\(links.isEmpty ? "" : ": " + links.joined(separator: ", ")))"
            }
            let scheme = configuration.tlsEnabled ? "https" : "http"
            let data = check.dataDirectoryState.map { "\($0.reason == .missing ? "created" : "set up") at first start" } ?? "ready"
            print("""
                \(file): OK
                  listen       \(scheme)://\(configuration.host):\(configuration.port)
                  data         \(configuration.dataDirectory) (\(data))
                  durability   \(configuration.durability.rawValue)
                  master key   \(configuration.masterKeySource == .env ? "VIGIL_MASTER_KEY" : configuration.dataDirectory + "/master.key")
                  model        \(check.model.version) (\(configuration.modelPath ?? "bundled"))
                  state        \(state)
                  stream       \(configuration.stream.map { "\($0) topic \(configuration.streamTopic)" } ?? "none")
                  region       \(region)
                """)
        }
    }
}
