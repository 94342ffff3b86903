public import Foundation
public import VigilEngine
public import VigilProtection

/// Which part a deployed model plays (docs/models.md).
public enum ModelRole: Sendable, Hashable, CustomStringConvertible {
    /// Answers for every tenant without a champion of its own.
    case champion
    /// Scored in the shadow of every payment; never answers.
    case challenger
    /// Answers for one tenant.
    case tenant(String)

    public var description: String {
        switch self {
        case .champion: "champion"
        case .challenger: "challenger"
        case .tenant(let name): "tenant \(name)"
        }
    }
}

/// The deployed models in the control plane: `models.json` says which version plays which part, and each model's
/// XGBoost JSON is its own document, `model-<version>.json`. `vigil model deploy`, `list` and `retire` change it;
/// every node polls `models.json` and swaps its ``ModelSet`` when it changes.
public struct ModelRegistry: Sendable {
    public let plane: any ControlPlane

    public init(plane: any ControlPlane) {
        self.plane = plane
    }

    /// One model in one part.
    public struct Deployment: Codable, Sendable, Equatable {
        public var version: String
        /// When it was deployed, ISO 8601 in UTC.
        public var deployedAt: String
        /// Who deployed it (the audit log's actor name).
        public var deployedBy: String
    }

    /// One deploy or retirement, as `models.json` keeps its history.
    public struct Change: Codable, Sendable, Equatable {
        /// `deploy` or `retire`.
        public var action: String
        /// `champion`, `challenger` or `tenant`.
        public var role: String
        public var tenant: String?
        public var version: String
        public var at: String
        public var by: String
    }

    /// `models.json`.
    public struct Document: Codable, Sendable, Equatable {
        public var champion: Deployment?
        public var challenger: Deployment?
        public var tenants: [String: Deployment] = [:]
        public var history: [Change] = []

        public init() {}

        /// Every version the document names, each once.
        public var versions: Set<String> {
            Set([champion?.version, challenger?.version].compactMap { $0 } + tenants.values.map(\.version))
        }
    }

    /// A model or a models document that cannot be deployed or loaded, and why.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Where `models.json` is, for messages.
    public var path: String { plane.location(of: .models) }

    /// The models document; an empty one when nothing was ever deployed.
    public func read() throws -> Document {
        try decode(try plane.read(.models))
    }

    func decode(_ bytes: [UInt8]?) throws -> Document {
        guard let bytes else { return Document() }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw Invalid(description: "\(path) is not a models document: \(error)")
        }
        for version in document.versions where !ControlDocument.isModelVersion(version) {
            throw Invalid(description: "\(path) names a model version that is not one (xgb- and 16 hex digits)")
        }
        return document
    }

    /// Loads and checks a model file as a server would, and refuses what a server would refuse, and a model that
    /// answers the same for every payment.
    /// - Throws: ``Invalid`` saying what is wrong with it.
    public static func validate(_ bytes: [UInt8], version: String? = nil) throws -> ModelBundle {
        let bundle: ModelBundle
        do {
            bundle = try ModelBundle(xgboostJSON: bytes, version: version)
        } catch {
            throw Invalid(description: error.message)
        }
        guard !bundle.isConstant else {
            throw Invalid(
                description: "the model is constant (every tree is a single leaf): it would give every payment the same score; train it on data with frauds in both training and validation"
            )
        }
        return bundle
    }

    /// Validates `bytes`, stores them as `model-<version>.json`, and makes the model play `role` in `models.json`.
    /// Deploying the challenger's version as the champion promotes it: it stops being the challenger.
    /// - Returns: the model as loaded.
    public func deploy(_ bytes: [UInt8], as role: ModelRole, at date: Date = Date(), by actor: String) throws -> ModelBundle {
        let bundle = try Self.validate(bytes)
        guard let document = ControlDocument.model(version: bundle.version) else {
            throw Invalid(description: "the model's version \(bundle.version) cannot name a document")
        }
        // The body first: a models document never names a model that is not stored.
        try plane.update(document) { _ in (.write(bytes), ()) }
        let at = Self.timestamp(date)
        try plane.update(.models) { current in
            var models = try decode(current)
            let deployment = Deployment(version: bundle.version, deployedAt: at, deployedBy: actor)
            var change = Change(action: "deploy", role: "champion", tenant: nil, version: bundle.version, at: at, by: actor)
            switch role {
            case .champion:
                models.champion = deployment
                if models.challenger?.version == bundle.version { models.challenger = nil }
            case .challenger:
                models.challenger = deployment
                change.role = "challenger"
            case .tenant(let name):
                models.tenants[name] = deployment
                (change.role, change.tenant) = ("tenant", name)
            }
            models.history.append(change)
            return (.write(try Self.encode(models)), ())
        }
        return bundle
    }

    /// Takes the challenger or a tenant's champion out of `models.json` (the global champion is only ever replaced).
    /// - Returns: the version retired.
    public func retire(_ role: ModelRole, at date: Date = Date(), by actor: String) throws -> String {
        let at = Self.timestamp(date)
        return try plane.update(.models) { current in
            var models = try decode(current)
            let retired: String
            var change = Change(action: "retire", role: "challenger", tenant: nil, version: "", at: at, by: actor)
            switch role {
            case .champion:
                throw Invalid(description: "the champion is replaced by deploying another model, never retired")
            case .challenger:
                guard let challenger = models.challenger else { throw Invalid(description: "there is no challenger to retire") }
                retired = challenger.version
                models.challenger = nil
            case .tenant(let name):
                guard let own = models.tenants.removeValue(forKey: name) else {
                    throw Invalid(description: "tenant '\(name)' has no champion of its own to retire")
                }
                retired = own.version
                (change.role, change.tenant) = ("tenant", name)
            }
            change.version = retired
            models.history.append(change)
            return (.write(try Self.encode(models)), retired)
        }
    }

    /// The model set `models.json` describes, each model loaded and checked; `fallback` is the champion when none is
    /// deployed (`vigil serve --model`, else the bundled model).
    /// - Parameter loaded: models already loaded, by version; a version found there is not read again, and every model
    ///   read is added.
    /// - Throws: ``Invalid`` or a ``ControlPlaneError`` when the document or a model it names cannot be read or
    ///   loaded: the caller keeps the set it has.
    public func load(fallback: ModelBundle, loaded: inout [String: ModelBundle]) throws -> ModelSet {
        let models = try read()
        func model(_ version: String) throws -> ModelBundle {
            if let known = loaded[version] { return known }
            guard let document = ControlDocument.model(version: version), let bytes = try plane.read(document) else {
                throw Invalid(description: "\(path) names model \(version), but its document model-\(version).json is missing from \(plane.location)")
            }
            let bundle: ModelBundle
            do {
                // The version from the document: PostgreSQL keeps the JSON as jsonb, whose text is not byte for byte the file's.
                bundle = try Self.validate(bytes, version: version)
            } catch {
                throw Invalid(description: "stored model \(version) is invalid: \(error)")
            }
            loaded[version] = bundle
            return bundle
        }
        var set = ModelSet(champion: try models.champion.map { try model($0.version) } ?? fallback)
        set.challenger = try models.challenger.map { try model($0.version) }
        for (tenant, deployment) in models.tenants { set.tenantChampions[tenant] = try model(deployment.version) }
        return set
    }

    static func encode(_ document: Document) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(document))
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
