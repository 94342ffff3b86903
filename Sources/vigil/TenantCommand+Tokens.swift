import ArgumentParser
import Foundation
import VigilProtection
import VigilServer

extension TenantCommand {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a signed, short-lived token (JWT) for a tenant and print it (the only line on stdout).",
            discussion: """
                The token is signed with the current signing key of --alg (made on first use) and carries iss, aud, \
                sub (the tenant), iat, exp, jti and kid. Send it as Authorization: Bearer <token>.
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Option(help: "Lifetime: a number and s, m or h, e.g. 30s, 15m, 1h; at most 24h.") var ttl: String
        @Option(help: "Signing algorithm: ES256 (default) or EdDSA.") var alg: String = SigningAlgorithm.es256.rawValue
        @OptionGroup var server: ServerDataOptions

        func run() async throws {
            let lifetime = try parseLifetime(ttl)
            let algorithm = try parseAlgorithm(alg)
            let configuration = try server.configuration()
            do {
                guard try TenantDirectory(dataDirectory: configuration.dataDirectory).load().byName[name] != nil else {
                    throw CLIError("tenant '\(name)' does not exist")
                }
                let now = Int64(Date().timeIntervalSince1970)
                let key = try SigningKeyStore(dataDirectory: configuration.dataDirectory).currentSigningKey(
                    algorithm, provider: configuration.masterKeyProvider, now: now
                )
                let claims = TokenClaims(
                    issuer: configuration.tokenIssuer, audience: [configuration.tokenAudience], subject: name, issuedAt: now,
                    expiresAt: now + lifetime, id: TokenClaims.newID(), keyID: key.kid
                )
                let token = try JSONWebToken.issue(claims, key: key)
                // Recorded (never the token itself) before the token is handed out.
                try Administration(configuration: configuration, actor: .currentUser()).record(
                    action: "token.issue", target: name,
                    details: [
                        "kid": key.kid, "alg": algorithm.rawValue, "jti": claims.id, "iat": String(claims.issuedAt),
                        "exp": String(claims.expiresAt),
                    ]
                )
                print(token)
                let expiry = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(claims.expiresAt)))
                FileHandle.standardError.write(Data("vigil: token for '\(name)' signed by kid \(key.kid), valid until \(expiry)\n".utf8))
            } catch {
                throw CLIError("tenant token: \(error)")
            }
        }
    }

    struct APIKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-keys",
            abstract: "Let a tenant authenticate with its API keys (--accept, the default) or only with signed tokens (--refuse)."
        )

        enum Mode: EnumerableFlag {
            case accept, refuse

            static func help(for value: Mode) -> ArgumentHelp? {
                switch value {
                case .accept: "Accept the tenant's API keys as well as signed tokens."
                case .refuse: "Refuse the tenant's API keys; only signed tokens authenticate it."
                }
            }
        }

        @Argument(help: "Tenant name.") var name: String
        @Flag var mode: Mode
        @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String = "./data"

        func run() async throws {
            try administer("tenant api-keys", dataDir: dataDir) { try $0.setAcceptAPIKeys(name: name, accept: mode == .accept) }
            let state = mode == .accept ? "accepts API keys" : "refuses API keys and accepts only signed tokens"
            FileHandle.standardError.write(Data("vigil: tenant '\(name)' now \(state)\n".utf8))
        }
    }
}

/// A token lifetime such as `30s`, `15m` or `1h`, in seconds: at least one second, at most
/// ``JSONWebToken/maximumLifetimeSeconds``.
func parseLifetime(_ text: String) throws -> Int64 {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
    guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), text.first?.isNumber == true else {
        throw CLIError("--ttl must be a number and a unit (s, m or h), e.g. 30s, 15m or 1h")
    }
    let maximum = JSONWebToken.maximumLifetimeSeconds
    guard count <= maximum, count * unit <= maximum else { throw CLIError("--ttl must be at most \(maximum / 3600)h") }
    guard count >= 1 else { throw CLIError("--ttl must be at least 1s") }
    return count * unit
}
