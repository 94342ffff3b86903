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
    let storage: Mutex<ModelSet>

    public init(_ set: ModelSet) {
        self.storage = Mutex(set)
    }

    /// The set as it is now. Copying it under the lock takes a few reference counts, no allocation.
    public var current: ModelSet { storage.withLock { $0 } }

    /// Makes `next` the set every later ``current`` returns.
    public func replace(_ next: ModelSet) {
        // The old set is released after the lock, not under it.
        let previous = storage.withLock { current in
            let previous = current
            current = next
            return previous
        }
        _ = previous
    }
}
