public import VigilFiles
import Crypto
import Foundation
public import VigilProtection
public import VigilDomain
public import VigilEngine
import VigilTrees

/// Every administrative action on a control plane (the data directory's files, or PostgreSQL), each recorded in
/// the audit log before it is reported done. The CLI's admin verbs and the server's own first-start set-up both go
/// through here.
public struct Administration: Sendable {
    public let plane: any ControlPlane
    public let tenants: TenantDirectory
    public let keys: KeyStore
    public let signingKeys: SigningKeyStore
    public let audit: AuditLog
    public let models: ModelRegistry
    public let actor: AuditLog.Actor

    public init(plane: any ControlPlane, provider: any KeyProvider, actor: AuditLog.Actor) {
        self.plane = plane
        tenants = TenantDirectory(plane: plane)
        keys = KeyStore(plane: plane, provider: provider)
        signingKeys = SigningKeyStore(plane: plane)
        audit = AuditLog(plane: plane)
        models = ModelRegistry(plane: plane)
        self.actor = actor
    }

    public init(dataDirectory: String, provider: any KeyProvider, actor: AuditLog.Actor) {
        self.init(plane: FileControlPlane(directory: dataDirectory), provider: provider, actor: actor)
    }

    /// The administration of an existing, initialised `dataDirectory` with the master key where the server finds
    /// it: `VIGIL_MASTER_KEY` when set, else the directory's `master.key`. Only `vigil serve` creates a data
    /// directory; an administrator's mistyped path must not grow a second one with keys no server uses.
    /// With `plane` (a shared control plane), the data directory is where the master key is found.
    public static func open(
        dataDirectory: String, plane: (any ControlPlane)? = nil, actor: AuditLog.Actor
    ) throws(UnusableDataDirectory) -> Administration {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dataDirectory
        if ProcessInfo.processInfo.environment["VIGIL_MASTER_KEY"] != nil { configuration.masterKeySource = .env }
        return try open(configuration: configuration, plane: plane, actor: actor)
    }

    /// The administration of the control plane a server configuration names (`plane`, or the data directory's
    /// files when nil), which `vigil serve` must have set up: a data directory with `tenants.json`, or a database
    /// holding the tenants document.
    public static func open(
        configuration: VigilConfiguration, plane: (any ControlPlane)?, actor: AuditLog.Actor
    ) throws(UnusableDataDirectory) -> Administration {
        guard let plane else {
            try UnusableDataDirectory.check(configuration.dataDirectory)
            return Administration(configuration: configuration, actor: actor)
        }
        try UnusableDataDirectory.check(plane: plane)
        // A master key made up here would wrap new keys that no node can open: the key must exist, and open the
        // keys already in the control plane, before anything is written.
        let masterKeyFile = configuration.dataDirectory + "/master.key"
        if configuration.masterKeySource == .file, !FileManager.default.fileExists(atPath: masterKeyFile) {
            throw UnusableDataDirectory(path: configuration.dataDirectory, reason: .noMasterKey)
        }
        let admin = Administration(plane: plane, provider: configuration.masterKeyProvider, actor: actor)
        do {
            _ = try admin.keys.open()
        } catch {
            throw UnusableDataDirectory(path: plane.location, reason: .unreachableControlPlane("\(error)"))
        }
        return admin
    }

    /// The administration of the data directory and master key a server configuration names.
    public init(configuration: VigilConfiguration, actor: AuditLog.Actor) {
        self.init(dataDirectory: configuration.dataDirectory, provider: configuration.masterKeyProvider, actor: actor)
    }

    /// Adds a tenant with a fresh API key and a data key; returns the key (shown once, stored only as a hash).
    public func createTenant(name: String) throws -> String {
        let key = try tenants.create(name: name)
        let created = try keys.ensureDataKeys { try tenants.read().map(\.name) }
        try audit.append(
            actor: actor, action: "tenant.create", target: name,
            details: ["dataKeyCreated": created.contains(name) ? "yes" : "no", "apiKeyID": TenantConfig.keyID(hash: APIKey.hash(key))]
        )
        return key
    }

    /// Crypto-shreds a tenant: removes it (its credentials stop working) and destroys every version of its data
    /// key, so what was sealed for it can no longer be opened. Its tokens stay in the feature state and events,
    /// so consortium features keep counting the accounts without anyone learning who they were.
    public func eraseTenant(name: String) throws -> [UInt32] {
        try tenants.update { configs in
            guard configs.contains(where: { $0.name == name }) else {
                throw TenantDirectory.Invalid(description: "no tenant named '\(name)'")
            }
            configs.removeAll { $0.name == name }
        }
        let versions = try keys.erase(tenant: name, at: Int64(Date().timeIntervalSince1970))
        try audit.append(
            actor: actor, action: "tenant.erase", target: name,
            details: ["destroyedDataKeyVersions": versions.map(String.init).joined(separator: ",")]
        )
        return versions
    }

    /// Adds a data-key version for one tenant, or for every tenant.
    public func rotateDataKeys(tenant: String?) throws -> [(tenant: String, version: UInt32)] {
        if let tenant, try tenants.read().contains(where: { $0.name == tenant }) == false {
            throw TenantDirectory.Invalid(description: "no tenant named '\(tenant)'")
        }
        let rotated = try keys.rotateDataKeys(tenants: tenant.map { [$0] })
        try audit.append(
            actor: actor, action: "keys.rotate", target: tenant ?? "*",
            details: ["newVersions": rotated.map { "\($0.tenant)=\($0.version)" }.joined(separator: ",")]
        )
        return rotated
    }

    /// Sets (or with nil, removes) a tenant's usage plan.
    public func setPlan(name: String, plan: UsagePlan?) throws {
        try change(name) { $0.plan = plan }
        var details = ["plan": "none"]
        if let plan {
            details = ["ratePerSecond": UsageLimiter.format(plan.ratePerSecond), "burst": String(plan.burst), "dailyQuota": plan.dailyQuota.map(String.init) ?? "none"]
        }
        try audit.append(actor: actor, action: "tenant.plan", target: name, details: details)
    }

    /// Sets (or with nil, removes) a tenant's IP allow-list.
    public func setAllowedNetworks(name: String, networks: [String]?) throws {
        try change(name) { $0.allowedNetworks = networks }
        try audit.append(
            actor: actor, action: "tenant.allowed-networks", target: name,
            details: ["networks": networks?.joined(separator: ",") ?? "any"]
        )
    }

    /// Pins a tenant to regions (data residency), or with nil lets every region serve it.
    public func setRegions(name: String, regions: [String]?) throws {
        try change(name) { $0.regions = regions }
        try audit.append(actor: actor, action: "tenant.regions", target: name, details: ["regions": regions?.joined(separator: ",") ?? "any"])
    }

    /// Lets a tenant authenticate with its API keys, or only with signed tokens.
    public func setAcceptAPIKeys(name: String, accept: Bool) throws {
        try change(name) { $0.acceptAPIKeys = accept ? nil : false }
        try audit.append(actor: actor, action: "tenant.api-keys", target: name, details: ["apiKeys": accept ? "accepted" : "refused"])
    }

    /// Sets the scores at which a tenant's payments become `review` and `block`; either may stay as it is.
    public func setThresholds(name: String, review: Int?, block: Int?) throws {
        var result = TenantConfig.Thresholds(review: 0, block: 0)
        try change(name) { config in
            if let review { config.thresholds.review = review }
            if let block { config.thresholds.block = block }
            result = config.thresholds
        }
        try audit.append(
            actor: actor, action: "tenant.thresholds", target: name,
            details: ["review": String(result.review), "block": String(result.block)]
        )
    }

    /// Sets which perspectives (sending, receiving) a tenant may score from.
    public func setPerspectives(name: String, perspectives: [Perspective]) throws {
        guard !perspectives.isEmpty else { throw TenantDirectory.Invalid(description: "a tenant needs at least one perspective") }
        let ordered = Perspective.allCases.filter(perspectives.contains)
        try change(name) { $0.perspectives = ordered }
        try audit.append(
            actor: actor, action: "tenant.perspectives", target: name,
            details: ["perspectives": ordered.map(\.rawValue).joined(separator: ",")]
        )
    }

    /// Gives a tenant one more API key and returns it (shown once, stored only as a hash), so a bank can roll its
    /// key without an outage: add, deploy the new key, revoke the old one.
    public func addAPIKey(name: String) throws -> String {
        let key = APIKey.generate()
        let hash = APIKey.hash(key)
        try change(name) { $0.apiKeyHashes.append(hash) }
        try audit.append(actor: actor, action: "tenant.api-key.add", target: name, details: ["apiKeyID": TenantConfig.keyID(hash: hash)])
        return key
    }

    /// Removes a tenant's API key by its id (``TenantConfig/keyID(hash:)``); returns how many keys the tenant has left.
    public func revokeAPIKey(name: String, keyID: String) throws -> Int {
        var remaining = 0
        try tenants.update { configs in
            guard let index = configs.firstIndex(where: { $0.name == name }) else {
                throw TenantDirectory.Invalid(description: "no tenant named '\(name)'")
            }
            let before = configs[index].apiKeyHashes.count
            configs[index].apiKeyHashes.removeAll { TenantConfig.keyID(hash: $0) == keyID }
            guard configs[index].apiKeyHashes.count < before else {
                throw TenantDirectory.Invalid(description: "tenant '\(name)' has no API key with id \(keyID) (`vigil tenant list` shows the ids)")
            }
            remaining = configs[index].apiKeyHashes.count
        }
        try audit.append(
            actor: actor, action: "tenant.api-key.revoke", target: name, details: ["apiKeyID": keyID, "remaining": String(remaining)]
        )
        return remaining
    }

    /// Binds a tenant to one more client certificate (a binding it already has is not repeated).
    public func bindCertificate(name: String, binding: CertificateBinding) throws {
        let matcher = try binding.compiled()
        var added = false
        try tenants.update { configs in
            guard let index = configs.firstIndex(where: { $0.name == name }) else {
                throw TenantDirectory.Invalid(description: "no tenant named '\(name)'")
            }
            var bindings = configs[index].clientCertificates ?? []
            if !(try bindings.contains { try $0.compiled() == matcher }) {
                bindings.append(binding)
                added = true
            }
            configs[index].clientCertificates = bindings
        }
        try audit.append(
            actor: actor, action: "tenant.bind-certificate", target: name,
            // A subject or SAN can name a person (an email SAN): the record keeps the kind and a digest of the binding.
            details: [
                "kind": String(matcher.canonical.prefix { $0 != ":" }),
                "bindingSHA256": SHA256.hash(data: Array(matcher.canonical.utf8)).withUnsafeBytes { Hex.encode($0) },
                "added": added ? "yes" : "already bound",
            ]
        )
    }

    /// Replaces a tenant's rules; refused, with nothing written, when they do not compile.
    public func setRules(name: String, rules: String) throws {
        try change(name) { $0.rules = rules }
        try audit.append(
            actor: actor, action: "tenant.rules", target: name,
            details: ["sha256": SHA256.hash(data: Array(rules.utf8)).withUnsafeBytes { Hex.encode($0) }, "lines": String(rules.split(separator: "\n").count)]
        )
    }

    /// Registers the public key a tenant signs its daily files with, replacing any before it. The key must have been
    /// checked (`FileOpener.inspect`); the audit record keeps its fingerprint.
    public func setPGPKey(name: String, key: TenantConfig.PGPKey) throws {
        var previous: String?
        try change(name) { config in
            previous = config.pgpKey?.fingerprint
            config.pgpKey = key
        }
        try audit.append(
            actor: actor, action: "tenant.pgp-key", target: name, details: ["fingerprint": key.fingerprint, "replaced": previous ?? "none"]
        )
    }

    /// Records an action taken elsewhere (the server reloading a hand-edited file, a token issued).
    /// Deploys a model file in a role (``ModelRegistry/deploy(_:as:at:by:)``): validated first, so a bad file changes
    /// nothing; a tenant's champion needs the tenant to exist. Audited as `model.deploy` with version and role.
    public func deployModel(_ bytes: [UInt8], as role: ModelRole) throws -> ModelBundle {
        if case .tenant(let name) = role, try !tenants.read().contains(where: { $0.name == name }) {
            throw TenantDirectory.Invalid(description: "no tenant named '\(name)'")
        }
        let bundle = try models.deploy(bytes, as: role, by: actor.name)
        var details = ["version": bundle.version, "role": Self.roleName(role), "trees": String(bundle.ensemble.treeCount)]
        if case .tenant(let name) = role { details["tenant"] = name }
        try audit.append(actor: actor, action: "model.deploy", target: bundle.version, details: details)
        return bundle
    }

    /// Retires the challenger or a tenant's champion; returns the version retired. Audited as `model.retire`.
    public func retireModel(_ role: ModelRole) throws -> String {
        let version = try models.retire(role, by: actor.name)
        var details = ["version": version, "role": Self.roleName(role)]
        if case .tenant(let name) = role { details["tenant"] = name }
        try audit.append(actor: actor, action: "model.retire", target: version, details: details)
        return version
    }

    static func roleName(_ role: ModelRole) -> String {
        switch role {
        case .champion: "champion"
        case .challenger: "challenger"
        case .tenant: "tenant"
        }
    }

    public func record(action: String, target: String?, details: [String: String] = [:]) throws {
        try audit.append(actor: actor, action: action, target: target, details: details)
    }

    func change(_ name: String, _ edit: (inout TenantConfig) -> Void) throws {
        try tenants.update { configs in
            guard let index = configs.firstIndex(where: { $0.name == name }) else {
                throw TenantDirectory.Invalid(description: "no tenant named '\(name)'")
            }
            edit(&configs[index])
        }
    }
}
