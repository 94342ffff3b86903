import Synchronization

/// The models a node scores with: the champion that answers, an optional challenger scored in the shadow, and the
/// champions some tenants have of their own (docs/models.md). Immutable; a deploy replaces the whole set.
public struct ModelSet: Sendable {
    /// The global champion: what answers for every tenant without a champion of its own.
    public var champion: ModelBundle
    /// Scored off the response path for every payment the champion scores, when present; never answers.
    public var challenger: ModelBundle?
    /// Champions of single tenants, by tenant name.
    public var tenantChampions: [String: ModelBundle]

    public init(champion: ModelBundle, challenger: ModelBundle? = nil, tenantChampions: [String: ModelBundle] = [:]) {
        self.champion = champion
        self.challenger = challenger
        self.tenantChampions = tenantChampions
    }

    /// The model that answers for `tenant`: its own champion, else the global one.
    @inlinable
    public func champion(for tenant: String) -> ModelBundle {
        tenantChampions.isEmpty ? champion : tenantChampions[tenant] ?? champion
    }

    /// Every model version in the set by role, for logs and audit records: `champion=…`, `challenger=…`,
    /// `tenant:<name>=…`, sorted.
    public var roles: [String] {
        var roles = ["champion=" + champion.version]
        if let challenger { roles.append("challenger=" + challenger.version) }
        for (tenant, model) in tenantChampions.sorted(by: { $0.key < $1.key }) { roles.append("tenant:\(tenant)=\(model.version)") }
        return roles
    }
}

/// The engine's current ``ModelSet``, replaced whole: a request reads it once (``current``), so it scores with one
/// set from start to end while a deploy swaps it for the next request.
public final class ModelSlot: Sendable {
    /// One reference under the lock, so a reader holds it for one retain; the set is copied out after.
    final class Box: Sendable {
        let set: ModelSet
        init(_ set: ModelSet) { self.set = set }
    }

    let storage: Mutex<Box>

    public init(_ set: ModelSet) {
        self.storage = Mutex(Box(set))
    }

    /// The set as it is now: one retain under the lock, no allocation.
    public var current: ModelSet { storage.withLock { $0 }.set }

    /// Makes `next` the set every later ``current`` returns.
    public func replace(_ next: ModelSet) {
        let box = Box(next)
        // The old set is released after the lock, not under it.
        let previous = storage.withLock { current in
            let previous = current
            current = box
            return previous
        }
        _ = previous
    }
}
