import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
public import VigilProtection

/// The public signing keys and the token policy the gateway checks bearer tokens against.
///
/// The keys are an immutable verifier swapped whole when `signing-keys.json` changes; the server never holds a
/// private signing key.
public final class TokenAuthority: Sendable {
    private let verifier: Mutex<TokenVerifier>
    private let now: @Sendable () -> Int64

    /// - Parameter now: seconds since 1970; the system clock unless a test fixes it.
    public init(policy: TokenVerifier.Policy, keys: [VerificationKey], now: (@Sendable () -> Int64)? = nil) {
        self.verifier = Mutex(TokenVerifier(keys: keys, policy: policy))
        self.now = now ?? { Int64(Date().timeIntervalSince1970) }
    }

    /// The ids of the keys tokens may be signed with.
    public var keyIDs: Set<String> { verifier.withLock { $0.keyIDs } }

    public func replaceKeys(_ keys: [VerificationKey]) {
        verifier.withLock { $0 = TokenVerifier(keys: keys, policy: $0.policy) }
    }

    /// The claims of a token that passes every check, at the current time.
    public func verify(_ token: some StringProtocol) throws(TokenError) -> TokenClaims {
        try verifier.withLock { $0 }.verify(token, now: now())
    }
}

/// Picks up a rotation of the signing keys (`vigil keys rotate --signing`) without a restart.
struct SigningKeyReloader: Service {
    let store: SigningKeyStore
    let authority: TokenAuthority
    let logger: Logger

    func run() async throws {
        let plane = store.plane
        // The first poll reloads: a rotation between the server's first read and this loop is not missed.
        var seen = ControlDocumentStamp.unread
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let store = store
            let current: ControlDocumentStamp
            do {
                current = try await blocking { try plane.stamp(.signingKeys) }
            } catch {
                logger.error("Kept the current signing keys: the control plane cannot be read", metadata: ["vigil.error": "\(error)"])
                continue
            }
            guard current != seen else { continue }
            seen = current
            do {
                let keys = try await blocking { try store.verificationKeys() }
                guard !keys.isEmpty else {
                    logger.error("Kept the previous signing keys: the new signing-key file holds none")
                    continue
                }
                authority.replaceKeys(keys)
                logger.notice("Reloaded signing keys", metadata: ["vigil.signing.kids": .array(keys.map { .string($0.kid) })])
            } catch {
                logger.error("Kept the previous signing keys: the new signing-key file is invalid", metadata: ["vigil.error": "\(error)"])
            }
        }
    }
}
