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
        @Option(help: "Signing algorithm: ES256 or EdDSA.") var alg: String = SigningAlgorithm.es256.rawValue
        @OptionGroup var server: ServerDataOptions

        func run() async throws {
            let lifetime = try parseLifetime(ttl)
            let algorithm = try parseAlgorithm(alg)
            let configuration = try server.configuration()
            let admin = try await server.administration("tenant token", configuration)
            do {
                guard try admin.tenants.load().byName[name] != nil else {
                    throw CLIError("tenant '\(name)' does not exist")
                }
                let now = Int64(Date().timeIntervalSince1970)
                let key = try admin.signingKeys.currentSigningKey(
                    algorithm, provider: configuration.masterKeyProvider, now: now
                )
                let claims = TokenClaims(
                    issuer: configuration.tokenIssuer, audience: [configuration.tokenAudience], subject: name, issuedAt: now,
                    expiresAt: now + lifetime, id: TokenClaims.newID(), keyID: key.kid
                )
                let token = try JSONWebToken.issue(claims, key: key)
                // Recorded (never the token itself) before the token is handed out.
                try admin.record(
                    action: "token.issue", target: name,
                    details: [
                        "kid": key.kid, "alg": algorithm.rawValue, "jti": claims.id, "iat": String(claims.issuedAt),
                        "exp": String(claims.expiresAt),
                    ]
                )
                print(token)
                let expiry = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(claims.expiresAt)))
                printError(("vigil: token for '\(name)' signed by kid \(key.kid), valid until \(expiry)\n".utf8))
            } catch {
                throw CLIError("tenant token: \(error)")
            }
        }
    }

    struct APIKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-keys",
            abstract: "Manage a tenant's API keys: add or revoke one, or accept or refuse them all.",
            usage: "vigil tenant api-keys <name> (--add | --revoke <key-id> | --accept | --refuse) [--data-dir <data-dir>] [--control-plane <url>]",
            discussion: """
                Give exactly one of:
                  --add            print a new API key (the only stdout line)
                  --revoke KEY-ID  remove a key by its id (`vigil tenant list`)
                  --accept         accept API keys and signed tokens (default)
                  --refuse         accept only signed tokens

                To roll a key without an outage: --add, give the bank the new key, then --revoke the old one. A \
                running server picks every change up within a second.
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Flag(help: "Create a new API key and print it.") var add = false
        @Option(help: ArgumentHelp("Remove the API key with this id.", valueName: "key-id")) var revoke: String?
        @Flag(help: "Accept the tenant's API keys as well as signed tokens.") var accept = false
        @Flag(help: "Refuse the tenant's API keys; only signed tokens authenticate it.") var refuse = false
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            try validateTenantName(name)
            let given = [add, revoke != nil, accept, refuse].filter { $0 }.count
            guard given == 1 else { throw ValidationError("give exactly one of --add, --revoke KEY-ID, --accept or --refuse") }
            if let revoke, revoke.utf8.count != 12 || !revoke.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
                throw ValidationError("a key id is 12 lower-case hex digits, as `vigil tenant list` shows it")
            }
        }

        func run() async throws {
            if add {
                let key = try await administer("tenant api-keys", data) { try $0.addAPIKey(name: name) }
                print(key)
                note("tenant '\(name)' has a new API key, id \(TenantConfig.keyID(hash: APIKey.hash(key)))")
            } else if let revoke {
                let remaining = try await administer("tenant api-keys", data) { try $0.revokeAPIKey(name: name, keyID: revoke) }
                note("revoked API key \(revoke) of tenant '\(name)'; \(remaining) key(s) left" + (remaining == 0 ? ": only signed tokens authenticate it" : ""))
            } else {
                try await administer("tenant api-keys", data) { try $0.setAcceptAPIKeys(name: name, accept: accept) }
                note("tenant '\(name)' now " + (accept ? "accepts API keys" : "refuses API keys and accepts only signed tokens"))
            }
        }

        func note(_ text: String) {
            printError(("vigil: \(text)\n".utf8))
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
