import Synchronization

/// A node's place in a two-region (active-active) deployment: its region, its peer, where each tenant's data may go,
/// and the counts `/metrics` shows for the link (docs/regions.md).
///
/// The placements follow the tenant table: ``ServerState`` hands every table it serves to ``update(tenants:)``, so a
/// pin set with `vigil tenant regions` applies to the copies made from then on.
public final class RegionLink: Sendable {
    /// This node's region; nil for a deployment without regions.
    public let region: String?
    /// The other region; nil when the node has none.
    public let peer: String?
    /// Each known tenant's regions (nil: any region).
    let placements = Mutex<[String: [String]?]>([:])
    let peerWriteMisses = Atomic<Int>(0)
    let peerWritesSkipped = Atomic<Int>(0)
    let folded = Atomic<Int>(0)
    let foldSkipped = Atomic<Int>(0)
    /// The newest `receivedAt` (epoch ms) of a folded peer event; `Int64.min` before the first.
    let newestFoldedMillis = Atomic<Int64>(.min)

    public init(region: String?, peer: String?) {
        self.region = region
        self.peer = peer
    }

    /// A link named by `vigil serve`'s `region` and `peerRegion`.
    public convenience init(_ configuration: VigilConfiguration) {
        self.init(region: configuration.region, peer: configuration.peerRegion)
    }

    /// Takes each tenant's regions from the table now served.
    public func update(tenants: TenantTable) {
        var placements: [String: [String]?] = [:]
        for (name, tenant) in tenants.byName { placements[name] = .some(tenant.config.regions) }
        self.placements.withLock { $0 = placements }
    }

    /// Whether `tenant`'s data may be kept in `region`: a tenant this node knows, unpinned or pinned to a set that
    /// holds it. A tenant this node does not know is kept nowhere else: its pins live in a control plane this node
    /// cannot read.
    public func allows(tenant: String, in region: String?) -> Bool {
        guard let placement = placements.withLock({ $0[tenant] }) else { return false }
        guard let regions = placement else { return true }
        return region.map(regions.contains) ?? false
    }

    /// Counts a write to the peer region's store that failed or timed out; the local write alone acknowledged.
    public func peerWriteMissed() { peerWriteMisses.add(1, ordering: .relaxed) }
    /// Counts an answer not written to the peer region because its tenant is not kept there.
    public func peerWriteSkipped() { peerWritesSkipped.add(1, ordering: .relaxed) }

    /// Counts one peer event folded into this region's state, received at `receivedAtMillis` in the peer region.
    func didFold(receivedAtMillis: Int64) {
        folded.add(1, ordering: .relaxed)
        var seen = newestFoldedMillis.load(ordering: .relaxed)
        while receivedAtMillis > seen {
            let (exchanged, original) = newestFoldedMillis.compareExchange(
                expected: seen, desired: receivedAtMillis, ordering: .relaxed
            )
            if exchanged { break }
            seen = original
        }
    }

    /// Counts one peer event left out: its tenant's data is not kept in this region, or the tenant is unknown here.
    func didSkipFold() { foldSkipped.add(1, ordering: .relaxed) }

    /// The link's counts, for tests and `/metrics`.
    public var statistics: (peerWriteMisses: Int, peerWritesSkipped: Int, folded: Int, foldSkipped: Int) {
        (
            peerWriteMisses.load(ordering: .relaxed), peerWritesSkipped.load(ordering: .relaxed), folded.load(ordering: .relaxed),
            foldSkipped.load(ordering: .relaxed)
        )
    }

    /// Seconds from the newest folded peer event's receipt in the peer region to `nowMillis`; nil before the first.
    public func replicationLagSeconds(nowMillis: Int64) -> Double? {
        let newest = newestFoldedMillis.load(ordering: .relaxed)
        guard newest != .min else { return nil }
        return Double(max(0, nowMillis - newest)) / 1000
    }
}
