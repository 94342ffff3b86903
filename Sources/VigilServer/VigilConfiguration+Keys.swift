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
}
