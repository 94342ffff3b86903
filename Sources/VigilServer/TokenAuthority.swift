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
        var seen = FileStamp(path: store.path)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let store = store
            let current = try await blocking { FileStamp(path: store.path) }
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

/// What changes when a file is replaced: an atomic rename gives a new inode, and a write within the same
/// clock tick still changes the size or the (sub-microsecond) modification time.
struct FileStamp: Equatable {
    var inode: UInt64 = 0
    var size: UInt64 = 0
    var modified: Date?

    /// The file's stamp; all zeros when it does not exist.
    init(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        modified = attributes[.modificationDate] as? Date
    }
}
