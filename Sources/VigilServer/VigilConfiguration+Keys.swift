public import VigilDomain
public import VigilProtection

extension VigilConfiguration {
    /// Where the master key comes from: `DATA/master.key` (created on first use) or `VIGIL_MASTER_KEY`.
    /// `vigil serve` and the key-handling CLI verbs both choose it here, so they always open the same keys.
    public var masterKeyProvider: any KeyProvider {
        switch masterKeySource {
        case .file: FileKeyProvider(path: dataDirectory + "/master.key")
        case .env: EnvironmentKeyProvider()
        }
    }

    /// What a bearer token must say to be accepted, and what `vigil tenant token` writes.
    public var tokenPolicy: TokenVerifier.Policy {
        TokenVerifier.Policy(issuer: tokenIssuer, audience: tokenAudience, clockSkewSeconds: Int64(tokenClockSkewSeconds))
    }

    /// How far `createdAt` may stray from the server's clock (`createdAtSkewSeconds`, `createdAtLagSeconds`).
    public var createdAtBounds: CreatedAtBounds {
        CreatedAtBounds(skewSeconds: Int64(createdAtSkewSeconds), lagSeconds: Int64(createdAtLagSeconds))
    }

    /// An hour ahead is already a broken clock; further would let a client push windows that far.
    static let createdAtSkewRange = 0...3600
    /// Ten years and a bit, so a test or a backfill can post old history at its own times.
    static let createdAtLagRange = 60...(3660 * 86_400)
}
