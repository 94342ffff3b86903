import Foundation
public import VigilFiles
public import VigilDomain
public import VigilEngine
public import VigilProtection
import VigilRules

/// One tenant (a bank) as written in `tenants.json`.
public struct TenantConfig: Sendable, Codable, Equatable {
    public struct Thresholds: Sendable, Codable, Equatable {
        /// Score at or above which a payment is `review`.
        public var review: Int
        /// Score at or above which a payment is `block`.
        public var block: Int

        public init(review: Int, block: Int) {
            self.review = review
            self.block = block
        }
    }

    public var name: String
    /// SHA-256 (hex) of each API key; the keys themselves are never stored. A key's id is its hash's first
    /// 12 hex digits (``keyID(hash:)``).
    public var apiKeyHashes: [String]
    public var perspectives: [Perspective]
    public var thresholds: Thresholds
    /// The tenant's rules in Vigil's rule language (see docs/rules.md).
    public var rules: String
    /// Rate, burst and daily quota; nil for no limit.
    public var plan: UsagePlan?
    /// CIDR blocks the tenant may connect from; nil for any address.
    public var allowedNetworks: [String]?
    /// The client certificates this tenant's requests must come with (see `CertificateBinding`); nil or empty
    /// binds none.
    public var clientCertificates: [CertificateBinding]?
    /// Whether the tenant's API keys authenticate; nil means yes. A tenant set to false scores only with signed
    /// tokens (`vigil tenant token`).
    public var acceptAPIKeys: Bool?
    /// The regions this tenant's payments may be scored in and its data kept in (data residency, docs/regions.md);
    /// nil for any region. A node of another region (or of none) answers `403 wrong-region`; its answers and events
    /// are not copied to regions outside the set.
    public var regions: [String]?
    /// The public key the tenant signs its daily files with (`vigil tenant pgp-key`); nil until one is registered.
    /// With `intakePGP gpg` a file must carry a good signature by this key.
    public var pgpKey: PGPKey?

    /// A tenant's registered OpenPGP public key: the intake's own type, stored as it is.
    public typealias PGPKey = TenantSigningKey

    /// The id an API key goes by in `vigil tenant list` and `vigil tenant api-keys --revoke`: the first 12 hex
    /// digits of its SHA-256, enough to tell a tenant's keys apart and useless for finding the key.
    public static func keyID(hash: String) -> String { String(hash.prefix(12)) }

    public static let defaultRules = """
        # Raise mule fan-in and likely double payments for a human look.
        rule "mule-burst": creditor.first_time_senders_1h >= 10 and amount > 500 -> review
        rule "double-payment": pair.possible_double_payment == 1 -> review

        """
}

/// A tenant ready to serve: its config with the rules compiled.
public struct Tenant: Sendable {
    public let config: TenantConfig
    public let policy: TenantPolicy
    /// The parsed `allowedNetworks`; nil for any address.
    public let allowList: AllowList?
    /// `config.clientCertificates`, checked.
    public let certificates: [CertificateMatcher]

    public func isEntitled(to perspective: Perspective) -> Bool { config.perspectives.contains(perspective) }

    /// Whether this tenant may be served, and its data kept, in `region` (nil: a node without a region).
    public func isServed(in region: String?) -> Bool {
        guard let regions = config.regions else { return true }
        return region.map(regions.contains) ?? false
    }
}

/// The tenant table at one moment: immutable, swapped whole on reload.
public struct TenantTable: Sendable {
    public let byKeyHash: [String: Tenant]
    public let byName: [String: Tenant]

    public static let empty = TenantTable(byKeyHash: [:], byName: [:])

    /// What differs between two tables, per tenant: `+name` added, `-name` removed, `name:field` changed (field
    /// names only; never values, which include key hashes and rules).
    public static func changes(from old: TenantTable, to new: TenantTable) -> [String] {
        var changes: [String] = []
        for name in Set(old.byName.keys).union(new.byName.keys).sorted() {
            switch (old.byName[name]?.config, new.byName[name]?.config) {
            case (nil, _?): changes.append("+" + name)
            case (_?, nil): changes.append("-" + name)
            case (let a?, let b?):
                if a.apiKeyHashes != b.apiKeyHashes { changes.append(name + ":apiKeys") }
                if a.perspectives != b.perspectives { changes.append(name + ":perspectives") }
                if a.thresholds != b.thresholds { changes.append(name + ":thresholds") }
                if a.rules != b.rules { changes.append(name + ":rules") }
                if a.plan != b.plan { changes.append(name + ":plan") }
                if a.allowedNetworks != b.allowedNetworks { changes.append(name + ":allowedNetworks") }
                if a.clientCertificates != b.clientCertificates { changes.append(name + ":clientCertificates") }
                if (a.acceptAPIKeys ?? true) != (b.acceptAPIKeys ?? true) { changes.append(name + ":acceptAPIKeys") }
                if a.regions != b.regions { changes.append(name + ":regions") }
                if a.pgpKey != b.pgpKey { changes.append(name + ":pgpKey") }
            default: break
            }
        }
        return changes
    }

    /// Finds the tenant owning a bearer key.
    public func tenant(forKey key: some StringProtocol) -> Tenant? { byKeyHash[APIKey.hash(key)] }
}

/// Reads and writes the tenants document (`DATA/tenants.json` in the embedded default) in a control plane. Writers
/// hold the control plane's lock on it and replace it whole, after the result has been validated.
public struct TenantDirectory: Sendable {
    public let plane: any ControlPlane

    public init(plane: any ControlPlane) {
        self.plane = plane
    }

    /// The tenant file in `dataDirectory`, the embedded default.
    public init(dataDirectory: String) {
        self.init(plane: FileControlPlane(directory: dataDirectory))
    }

    /// Where the tenants are: the file's path, or where in the database.
    public var path: String { plane.location(of: .tenants) }

    struct File: Codable {
        var tenants: [TenantConfig]
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether the tenants document exists: `vigil serve` writes it on its first start, so a control plane without
    /// it has never been set up.
    public func exists() throws -> Bool { try plane.read(.tenants) != nil }

    /// Reads, validates and compiles every tenant. An absent document is an empty table.
    public func load() throws -> TenantTable {
        try Self.compile(try read())
    }

    func read() throws -> [TenantConfig] {
        try decode(try plane.read(.tenants))
    }

    func decode(_ bytes: [UInt8]?) throws -> [TenantConfig] {
        guard let bytes else { return [] }
        do {
            return try JSONDecoder().decode(File.self, from: Data(bytes)).tenants
        } catch let DecodingError.keyNotFound(key, context) {
            throw Invalid(description: "\(path): \((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw Invalid(description: "\(path): \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type or value")
        } catch {
            throw Invalid(description: "\(path) is not a valid tenant file: \(error)")
        }
    }

    static func compile(_ configs: [TenantConfig]) throws -> TenantTable {
        var byKey: [String: Tenant] = [:]
        var byName: [String: Tenant] = [:]
        var boundTo: [String: String] = [:]
        for config in configs {
            guard isValidName(config.name) else {
                throw Invalid(description: nameRule(config.name))
            }
            guard byName[config.name] == nil else { throw Invalid(description: "tenant '\(config.name)' appears twice") }
            let t = config.thresholds
            guard (0...1000).contains(t.review), (0...1000).contains(t.block), t.review <= t.block else {
                throw Invalid(description: "tenant '\(config.name)': thresholds must satisfy 0 ≤ review ≤ block ≤ 1000")
            }
            let rules: RuleSet
            do {
                rules = try TenantPolicy.compileRules(config.rules)
            } catch {
                throw Invalid(description: "tenant '\(config.name)' rules: \(error)")
            }
            do {
                try config.plan?.validate()
            } catch {
                throw Invalid(description: "tenant '\(config.name)': \(error)")
            }
            let allowList: AllowList?
            do {
                allowList = try config.allowedNetworks.map(AllowList.init)
            } catch {
                throw Invalid(description: "tenant '\(config.name)' allowedNetworks: \(error)")
            }
            if let regions = config.regions {
                guard !regions.isEmpty else { throw Invalid(description: "tenant '\(config.name)' regions: name at least one region, or none for any") }
                for region in regions where !VigilConfiguration.isValidRegionName(region) {
                    throw Invalid(description: "tenant '\(config.name)' regions: a region name \(VigilConfiguration.regionNameRule)")
                }
                guard Set(regions).count == regions.count else { throw Invalid(description: "tenant '\(config.name)' regions: a region appears twice") }
            }
            var certificates: [CertificateMatcher] = []
            for (index, binding) in (config.clientCertificates ?? []).enumerated() {
                let matcher: CertificateMatcher
                do {
                    matcher = try binding.compiled()
                } catch {
                    throw Invalid(description: "tenant '\(config.name)' clientCertificates[\(index)] \(error.description)")
                }
                // One certificate serving two tenants would let either tenant's credential ride on the other's certificate.
                if let other = boundTo[matcher.canonical], other != config.name {
                    throw Invalid(description: "tenant '\(config.name)' clientCertificates[\(index)] is also bound to tenant '\(other)'")
                }
                boundTo[matcher.canonical] = config.name
                certificates.append(matcher)
            }
            let tenant = Tenant(
                config: config,
                policy: TenantPolicy(name: config.name, reviewThreshold: t.review, blockThreshold: t.block, rules: rules),
                allowList: allowList,
                certificates: certificates
            )
            byName[config.name] = tenant
            for hash in config.apiKeyHashes {
                guard byKey[hash] == nil else { throw Invalid(description: "an API key hash is shared by two tenants") }
                byKey[hash] = tenant
            }
        }
        return TenantTable(byKeyHash: byKey, byName: byName)
    }

    /// Why `name` is refused as a tenant name.
    public static func nameRule(_ name: String) -> String {
        "tenant name '\(name)' must be 1–63 lower-case letters, digits, '-' or '_'"
    }

    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        return bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
    }

    /// Adds a tenant with a fresh API key and returns the key (shown once, stored only as a hash).
    public func create(
        name: String, perspectives: [Perspective] = Perspective.allCases,
        thresholds: TenantConfig.Thresholds = .init(review: 600, block: 900), rules: String = TenantConfig.defaultRules
    ) throws -> String {
        // Checked before the lock file is opened: a refused name leaves nothing behind.
        guard Self.isValidName(name) else { throw Invalid(description: Self.nameRule(name)) }
        let key = APIKey.generate()
        try update { configs in
            guard !configs.contains(where: { $0.name == name }) else {
                throw Invalid(description: "tenant '\(name)' already exists")
            }
            configs.append(TenantConfig(
                name: name, apiKeyHashes: [APIKey.hash(key)], perspectives: perspectives, thresholds: thresholds, rules: rules
            ))
        }
        return key
    }

    /// Read-modify-write under the control plane's lock; the result is validated before it replaces the document,
    /// so a refused change leaves the previous tenants in place. With files, the data directory must exist: only
    /// `vigil serve` creates one.
    public func update(_ change: (inout [TenantConfig]) throws -> Void) throws {
        try plane.update(.tenants) { bytes in
            var configs = try decode(bytes)
            try change(&configs)
            _ = try Self.compile(configs)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return (.write(Array(try encoder.encode(File(tenants: configs)))), ())
        }
    }
}
