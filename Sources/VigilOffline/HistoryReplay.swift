import Foundation
public import VigilDomain
public import VigilFeatures
public import VigilGateway
public import VigilProtection

/// Replays a payment history through the same feature code the server runs, in time order.
///
/// This is the offline side of "one feature definition": a row's features come only from the rows before it,
/// exactly as the server would have computed them had the payments arrived in that order.
public struct HistoryReplay: Sendable {
    public let gateway: Gateway

    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// A gateway for offline work: the data directory's keys when given (tokens then match the server's), otherwise
    /// throwaway keys, created in a temporary directory that is removed at once (feature values do not depend on
    /// token values, only on which tokens are equal).
    public static func gateway(dataDirectory: String?) throws -> Gateway {
        if let dataDirectory {
            // Opening a key store creates its keys when there are none: without this check a mistyped --data-dir
            // would tokenise under fresh keys that match no server's, and leave them behind.
            guard FileManager.default.fileExists(atPath: dataDirectory + "/keys.json") else {
                throw KeyError(
                    .io, "\(dataDirectory) is not a Vigil data directory (it has no keys.json); give the server's --data-dir, or omit it"
                )
            }
            // The same master-key source the server uses: VIGIL_MASTER_KEY when set, else the directory's key file.
            if ProcessInfo.processInfo.environment["VIGIL_MASTER_KEY"] != nil {
                return Gateway(keys: try KeyRing.open(directory: dataDirectory, provider: EnvironmentKeyProvider()))
            }
            return Gateway(keys: try KeyRing.open(directory: dataDirectory, provider: FileKeyProvider(path: dataDirectory + "/master.key")))
        }
        let temporary = NSTemporaryDirectory() + "vigil-offline-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        return Gateway(keys: try KeyRing.open(directory: temporary, provider: FileKeyProvider(path: temporary + "/master.key")))
    }

    public struct Summary: Sendable, Equatable {
        public var replayed = 0
        /// Rows whose paymentId was seen before: the server would have answered them as duplicates.
        public var duplicates = 0
        /// Rows that were not in createdAt order in the file (they are replayed in time order regardless).
        public var outOfOrder = 0
    }

    /// Calls `body` for each row in createdAt order (ties keep file order) with its tokenised payment and
    /// its features, after dropping repeated payment ids.
    /// - Parameters:
    ///   - reference: the reference data the live service had (fraud reports, the tenant's directory and account
    ///     links), so that the `creditor.reported_*`, `*.institution_type` and `customer.*` features come out as
    ///     online; reports count only from when they became known. Empty by default.
    ///   - tenant: whose directory and account links are read.
    public func replay<Store: FeatureStore>(
        _ rows: [HistoryRow], store: Store, reference: any ReferenceStore = InMemoryReferenceStore(), tenant: String = "",
        _ body: (HistoryRow, TokenizedPayment, [Double]) throws -> Void
    ) async throws -> Summary {
        try await replay(rows, store: store, reference: reference, tenantOf: { _ in tenant }, body)
    }

    /// ``replay(_:store:reference:tenant:_:)`` with each row's own tenant: `tenantOf` names whose directory and
    /// account links the row reads (``ReferenceFiles/tenant(of:covers:)`` for a folder of several tenants' files).
    public func replay<Store: FeatureStore>(
        _ rows: [HistoryRow], store: Store, reference: any ReferenceStore, tenantOf: (HistoryRow) -> String,
        _ body: (HistoryRow, TokenizedPayment, [Double]) throws -> Void
    ) async throws -> Summary {
        var summary = Summary()
        for i in rows.indices.dropFirst() where rows[i].request.createdAt < rows[i - 1].request.createdAt {
            summary.outOfOrder += 1
        }
        let ordered = rows.enumerated().sorted {
            ($0.element.request.createdAt.epochMillis, $0.offset) < ($1.element.request.createdAt.epochMillis, $1.offset)
        }
        let extractor = FeatureExtractor(store: store)
        var seen = Set<String>()
        var features: [Double] = []
        for (_, row) in ordered {
            guard seen.insert(row.request.paymentId).inserted else {
                summary.duplicates += 1
                continue
            }
            let payment = gateway.tokenize(row.request)
            let facts = try await reference.facts(ReferenceQuery(tenant: tenantOf(row), payment: payment))
            try await extractor.observe(payment, identity: payment.consortiumIdentity, facts: facts, into: &features)
            try body(row, payment, features)
            summary.replayed += 1
        }
        return summary
    }
}
