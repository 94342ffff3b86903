import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import Synchronization
import VigilDomain
public import VigilProtection
public import VigilEngine
public import VigilEventLog
public import VigilFeatures
public import VigilGateway
import VigilProtection
import VigilISO20022

/// Shared state the responder reads per request: readiness, each tenant's usage, and one snapshot of the tenant
/// table and the key ring, swapped whole on reload. Ready means recovery has finished and the event log has not
/// failed since.
public final class ServerState: Sendable {
    public struct Snapshot: Sendable {
        public var tenants: TenantTable
        public var keys: KeyRing
    }

    let ready = Atomic<Bool>(false)
    let eventLogFailed = Atomic<Bool>(false)
    /// Payments answered 503 because the event log refused them, since the process started.
    let unacknowledged = Atomic<Int>(0)
    let snapshot: Mutex<Snapshot>
    /// Where each tenant's plan is spent: this process (`UsageLimiter`, the default) or a store every node shares.
    public let usage: any UsageLimiting
    /// Why the state back end does not answer, per `BackendMonitor`; nil when it does.
    let backendProblem = Mutex<String?>(nil)
    /// The state back end's own counters, for `/metrics`.
    let storeCounters: @Sendable () -> [StateStoreCounter]
    /// This node's region and its peer; it follows the tenant table for each tenant's regions.
    public let link: RegionLink

    public init(
        tenants: TenantTable, keys: KeyRing, usage: any UsageLimiting = UsageLimiter(),
        storeCounters: @escaping @Sendable () -> [StateStoreCounter] = { [] }, link: RegionLink = RegionLink(region: nil, peer: nil)
    ) {
        self.snapshot = Mutex(Snapshot(tenants: tenants, keys: keys))
        self.usage = usage
        self.storeCounters = storeCounters
        self.link = link
        link.update(tenants: tenants)
    }

    /// Whether recovery has finished and the event log can append: what `/ready` and `vigil_ready` report.
    public var isReady: Bool {
        ready.load(ordering: .acquiring) && !eventLogFailed.load(ordering: .acquiring) && backendProblem.withLock { $0 == nil }
    }
    /// Why the state back end does not answer; nil when it does.
    public var stateBackendProblem: String? { backendProblem.withLock { $0 } }
    public func setBackendProblem(_ problem: String?) { backendProblem.withLock { $0 = problem } }
    /// Whether recovery has finished; payments are taken from then on.
    public var isRecovered: Bool { ready.load(ordering: .acquiring) }
    /// Whether the event log has failed; the node acknowledges nothing more until it is restarted.
    public var hasEventLogFailed: Bool { eventLogFailed.load(ordering: .acquiring) }
    /// Records that the event log refuses appends for good; true the first time only.
    @discardableResult
    public func markEventLogFailed() -> Bool {
        !eventLogFailed.exchange(true, ordering: .acquiringAndReleasing)
    }
    public func markReady() { ready.store(true, ordering: .releasing) }
    public var current: Snapshot { snapshot.withLock { $0 } }
    public var tenantTable: TenantTable { current.tenants }
    public func replaceTenants(_ table: TenantTable) {
        snapshot.withLock { $0.tenants = table }
        link.update(tenants: table)
    }
    public func replaceKeys(_ keys: KeyRing) { snapshot.withLock { $0.keys = keys } }
}

/// Routes requests, authenticates tenants, validates, tokenises and scores. Every failure is problem+json.
public struct VigilResponder<Store: FeatureStore, Log: EventLog, Duplicates: DuplicateStore>: HTTPResponder {
    public typealias Context = VigilRequestContext

    public let engine: ScoringEngine<Store, Log, Duplicates>
    public let state: ServerState
    public let metrics: ServerMetrics
    /// Whether connections carry verified client certificates (`--client-ca`) that tenants' bindings must match.
    public let checksClientCertificates: Bool
    public let tokens: TokenAuthority
    let openAPI: ByteBuffer
    let decoder: PaymentRequestDecoder
    /// The daily-file routes' inbox and metadata store; nil on a node that takes no files.
    let files: FileEndpoints?

    /// Largest request body accepted.
    public static var maxBodyBytes: Int { 64 * 1024 }
    /// Largest ISO 20022 message body accepted: up to `CreditTransfer.maxTransactions` transactions.
    public static var maxISO20022BodyBytes: Int { 1024 * 1024 }

    public init(
        engine: ScoringEngine<Store, Log, Duplicates>, state: ServerState, metrics: ServerMetrics, tokens: TokenAuthority, openAPI: [UInt8],
        checksClientCertificates: Bool = false, files: FileEndpoints? = nil
    ) {
        self.files = files
        self.engine = engine
        self.state = state
        self.metrics = metrics
        self.checksClientCertificates = checksClientCertificates
        self.tokens = tokens
        self.openAPI = ByteBuffer(bytes: openAPI)
        self.decoder = PaymentRequestDecoder(bounds: engine.bounds)
    }

    enum Route: String {
        case score = "/v1/payments/score"
        case health = "/health"
        case ready = "/ready"
        case metrics = "/metrics"
        case openAPI = "/openapi.json"
        case files = "/v1/files"
        case file = "/v1/files/{id}"
        case fraudReports = "/v1/fraud-reports"
        case pacs008 = "/v1/iso20022/pacs.008"
        case pacs002 = "/v1/iso20022/pacs.002"
        case camt056 = "/v1/iso20022/camt.056"

        var method: HTTPRequest.Method {
            switch self {
            case .score, .files, .fraudReports, .pacs008, .pacs002, .camt056: .post
            case .health, .ready, .metrics, .openAPI, .file: .get
            }
        }

        /// The route a path names, and for `/v1/files/{id}` the id.
        static func resolve(_ path: String) -> (Route?, String?) {
            let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if let route = Route(rawValue: trimmed) { return (route, nil) }
            let prefix = "/v1/files/"
            if trimmed.hasPrefix(prefix), trimmed.count > prefix.count {
                let id = trimmed.dropFirst(prefix.count)
                if !id.contains("/") { return (.file, String(id)) }
            }
            return (nil, nil)
        }
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let path = request.uri.path
        let (route, fileID) = Route.resolve(path)
        var response: Response
        do {
            guard let route else { throw ProblemDetails(.notFound, "No resource lives at this path.") }
            guard request.method == route.method else {
                throw ProblemDetails(
                    .methodNotAllowed, "This resource only accepts \(route.method.rawValue).",
                    headers: [.allow: route.method.rawValue]
                )
            }
            response = try await handle(route, request: request, context: context, started: started, fileID: fileID)
        } catch let problem as ProblemDetails {
            // `instance` names the route template only: an unknown path is client input and may hold personal data.
            response = problem.response(instance: route?.rawValue)
        } catch {
            context.logger.error("Unexpected error while handling a request", metadata: ["vigil.error.type": "\(type(of: error))"])
            response = ProblemDetails(.internalError, "An unexpected error occurred; it has been logged.").response(instance: route?.rawValue)
        }
        let elapsed = ContinuousClock.now - started
        metrics.request(
            route: route?.rawValue ?? "unmatched", status: Int(response.status.code),
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
        return response
    }

    func handle(
        _ route: Route, request: Request, context: Context, started: ContinuousClock.Instant, fileID: String? = nil
    ) async throws -> Response {
        switch route {
        case .files:
            return try await uploadFile(request, context: context)
        case .file:
            return try await fileRecord(fileID ?? "", request, context: context)
        case .fraudReports:
            return try await fraudReports(request, context: context)
        case .health:
            return json(#"{"status":"ok"}"#)
        case .ready:
            guard state.isRecovered else { throw ProblemDetails(.notReady, "Recovery from the event log is still running.") }
            if state.hasEventLogFailed || engine.log.failure != nil {
                throw ProblemDetails(.notReady, Self.eventLogFailedDetail)
            }
            if state.stateBackendProblem != nil {
                throw ProblemDetails(.notReady, "The shared state store does not answer; this node reconnects by itself.")
            }
            return json(#"{"status":"ready"}"#)
        case .metrics:
            metrics.setReady(state.isReady && engine.log.failure == nil)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text(
                    featureKeys: engine.extractor.store.keyCounts, duplicateEntries: engine.duplicates.entryCount,
                    storeCounters: state.storeCounters(), link: state.link
                )))
            )
        case .openAPI:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: openAPI))
        case .score:
            return try await score(request, context: context, started: started)
        case .pacs008:
            return try await scoreCreditTransfer(request, context: context, started: started)
        case .pacs002:
            return try await recordISO20022Labels(request, context: context, kind: .pacs002)
        case .camt056:
            return try await recordISO20022Labels(request, context: context, kind: .camt056)
        }
    }

    /// Why `/ready` answers 503 after the event log failed. Constant: the error names files and system calls,
    /// which go to the log, not to any client.
    static var eventLogFailedDetail: String {
        "The event log cannot append (a write or fsync failed, e.g. the disk is full): this node acknowledges no "
        + "payments. It exits with status 75 to be restarted; see docs/event-log.md."
    }

    /// Refuses a payment outside the tenant's loaded entitlements (403 `not-entitled`); a tenant that loaded none is
    /// not checked. The detail names no value of the request. When the shared store fails, a node configured to degrade
    /// (`stateFailure: degraded`) scores without the check, as it scores without the state; otherwise 503.
    func checkEntitlements(_ payment: PaymentRequest, tenant: String, receivedAt: Instant) async throws {
        let entitlements: [Entitlement]?
        do {
            entitlements = try await engine.reference.entitlements(tenant: tenant)
        } catch {
            if engine.degradesOnStateFailure { return }
            throw ProblemDetails(
                .unavailable, "The reference store did not answer (down, slow or failing); nothing was scored. Retry shortly.",
                headers: [.retryAfter: "1"]
            )
        }
        guard let entitlements, !EntitlementCheck.allows(entitlements, payment: payment, receivedAt: receivedAt) else { return }
        let side = payment.perspective == .sending ? "debtor" : "creditor"
        throw ProblemDetails(
            .notEntitled,
            "This payment is outside the tenant's entitlements: no loaded range covers the \(side)'s code for this perspective, scheme and time. Load an entitlements file that covers it."
        )
    }

    /// A tenant whose request passed every check made before its body is read, with what scoring needs from them.
    struct Admission {
        var tenant: Tenant
        /// The usage plan's headers for the answer.
        var limits: HTTPFields
        var keys: KeyRing
    }

    /// The checks before the body is read, in order: recovery, authentication, address, region, plan (one payment
    /// spent), data key. A refused client costs no more than its headers.
    func admit(_ request: Request, context: Context) async throws -> Admission {
        guard state.isRecovered else {
            throw ProblemDetails(.notReady, "Recovery from the event log is still running; retry shortly.", headers: [.retryAfter: "1"])
        }
        let snapshot = state.current
        let tenant = try authenticate(request, tenants: snapshot.tenants, context: context)
        if let allowList = tenant.allowList, !allowList.allows(context.remoteAddress) {
            throw ProblemDetails(.addressNotAllowed, "This tenant does not accept requests from this network address.")
        }
        // Before the body is read: a payment of a tenant pinned elsewhere never enters this region, not even its log.
        guard tenant.isServed(in: state.link.region) else {
            throw ProblemDetails(
                .wrongRegion, "This tenant's payments are scored, and its data kept, only in other regions; send them to a node there."
            )
        }
        let limits = try await spend(tenant)
        guard let keys = snapshot.keys.scoped(to: tenant.config.name) else {
            context.logger.critical("A tenant has no data key; its payments cannot be sealed", metadata: ["vigil.tenant": .string(tenant.config.name)])
            throw ProblemDetails(.unavailable, "This tenant's data key is missing; nothing was acknowledged.")
        }
        return Admission(tenant: tenant, limits: limits, keys: keys)
    }

    /// Spends one payment of the tenant's plan, or the problem that says when to come back.
    func spend(_ tenant: Tenant) async throws -> HTTPFields {
        switch await state.usage.admit(tenant: tenant.config.name, plan: tenant.config.plan) {
        case .admitted(let fields): return fields
        case .limited(let problem): throw problem
        case .unavailable:
            // Not logged per request: while the store is down that would be one line per payment. The reason is
            // for the limiter's own logs and tests; the client gets a constant detail.
            throw ProblemDetails(
                .unavailable, "The usage-plan store did not answer (down, slow or failing); nothing was scored. Retry shortly.",
                headers: [.retryAfter: "1"]
            )
        }
    }

    /// The server's clock, read once a body is in, so `createdAt` is bounded by the time the payment arrived whole.
    static func now() -> Instant {
        Instant(epochMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    func score(_ request: Request, context: Context, started: ContinuousClock.Instant) async throws -> Response {
        let admission = try await admit(request, context: context)
        try checkContentType(request)
        var body = try await readBody(request)
        let receivedAt = Self.now()
        let payment: PaymentRequest
        switch decoder.decode(body, receivedAt: receivedAt) {
        case .success(let decoded): payment = decoded
        case .failure(.malformedJSON(let detail)): throw ProblemDetails(.malformedJSON, detail)
        case .failure(.invalid(let errors)):
            throw ProblemDetails(.validationFailed, "The request has \(errors.count) invalid field(s); see errors.", errors: errors)
        }
        let tokenized = try await tokenize(payment, admission: admission, receivedAt: receivedAt)
        // The plaintext body is not needed past the PII boundary. (The decoded strings are freed unwiped: docs/security.md.)
        LockedMemory.wipe(&body)
        let response = try await score(tokenized, admission: admission, receivedAt: receivedAt, started: started, context: context)
        return encode(response, headers: admission.limits)
    }

    /// A decoded payment past the gateway: the perspective and entitlement checks, then tokenisation. Both routes
    /// score every payment through here and `score(_:admission:receivedAt:started:context:)`.
    func tokenize(_ payment: PaymentRequest, admission: Admission, receivedAt: Instant) async throws -> TokenizedPayment {
        guard admission.tenant.isEntitled(to: payment.perspective) else {
            throw ProblemDetails(.forbiddenPerspective, "This tenant is not entitled to score from the \(payment.perspective.rawValue) perspective.")
        }
        try await checkEntitlements(payment, tenant: admission.tenant.config.name, receivedAt: receivedAt)
        return Gateway(keys: admission.keys).tokenize(payment)
    }

    /// The engine's answer for one tokenised payment, or the problem the score route answers instead.
    func score(
        _ tokenized: TokenizedPayment, admission: Admission, receivedAt: Instant, started: ContinuousClock.Instant, context: Context
    ) async throws -> ScoreResponse {
        let tenant = admission.tenant
        let outcome = await engine.score(tokenized, tenant: tenant.policy, receivedAt: receivedAt, started: started)
        switch outcome {
        case .scored(let response):
            metrics.decision(tenant: tenant.config.name, decision: response.decision)
            if response.degraded == true { metrics.degradedScore() }
            // Per-payment lines are debug: at thousands of payments a second, info-level lines would cost more than scoring.
            context.logger.debug(
                "Scored payment",
                metadata: [
                    "vigil.tenant": .string(tenant.config.name),
                    "vigil.payment.debtor": .string(tokenized.debtor.account.description),
                    "vigil.payment.creditor": .string(tokenized.creditor.account.description),
                    "vigil.score": .stringConvertible(response.score),
                    "vigil.decision": .string(response.decision.rawValue),
                ]
            )
            return response
        case .duplicate(let response):
            return response
        case .inProgress:
            throw ProblemDetails(
                .paymentInProgress, "A request with this paymentId is still being scored; retry shortly.", headers: [.retryAfter: "1"]
            )
        case .reused:
            throw ProblemDetails(
                .paymentIdReused,
                "This paymentId was already scored for a different payment; a retry must repeat the original request exactly, and a new payment needs a new paymentId."
            )
        case .unavailable:
            // Not logged here: at thousands a second the lines would fill the disk faster. `EventLogMonitor` logs
            // the failure once, then a summary with this count.
            state.unacknowledged.add(1, ordering: .relaxed)
            metrics.paymentUnacknowledged()
            if engine.log.failure != nil, state.markEventLogFailed() { metrics.setReady(false) }
            throw ProblemDetails(.unavailable, "The event log cannot record payments; nothing was acknowledged.")
        case .stateUnavailable:
            // Counted, not logged per payment; `BackendMonitor` logs the store's failure once and `/ready` reports it.
            metrics.stateUnavailable()
            throw ProblemDetails(
                .unavailable, "The shared state store did not answer in time; nothing was acknowledged. Retry shortly.",
                headers: [.retryAfter: "1"]
            )
        }
    }

    func authenticate(_ request: Request, tenants: TenantTable, context: Context) throws -> Tenant {
        let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="vigil""#]
        guard let header = request.headers[.authorization] else {
            throw ProblemDetails(.unauthorized, "Send a signed token or an API key as Authorization: Bearer <credential>.", headers: challenge)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].utf8.elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }) else {
            throw ProblemDetails(.unauthorized, "The Authorization header must use the Bearer scheme.", headers: challenge)
        }
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        var key = parts[1].drop(while: blank)
        while let last = key.last, blank(last) { key = key.dropLast() }
        // API keys are base64url and never hold a dot; a JWS compact token always does.
        let tenant: Tenant
        if key.contains(".") {
            tenant = try authenticate(token: key, tenants: tenants)
        } else {
            guard let owner = tenants.tenant(forKey: key) else {
                throw ProblemDetails(.unauthorized, "The API key is not valid.", headers: challenge)
            }
            guard owner.config.acceptAPIKeys != false else {
                throw ProblemDetails(
                    .unauthorized, "This tenant accepts only signed tokens (vigil tenant token), not API keys.", headers: challenge
                )
            }
            tenant = owner
        }
        try checkClientCertificate(of: tenant, context: context)
        return tenant
    }

    /// The tenant a signed token names in `sub`, once the token passes every check.
    func authenticate(token: Substring, tenants: TenantTable) throws -> Tenant {
        // RFC 6750 §3.1: a refused token is `invalid_token`.
        let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="vigil", error="invalid_token""#]
        let claims: TokenClaims
        do {
            claims = try tokens.verify(token)
        } catch {
            throw ProblemDetails(.unauthorized, "The bearer token was refused: \(error.message).", headers: challenge)
        }
        guard let tenant = tenants.byName[claims.subject] else {
            throw ProblemDetails(.unauthorized, "The bearer token was refused: its subject is not a tenant.", headers: challenge)
        }
        return tenant
    }

    /// A credential counts only over a connection whose client certificate is bound to its tenant, so tenant A's
    /// certificate cannot carry tenant B's key; a tenant with bindings is refused without a certificate.
    func checkClientCertificate(of tenant: Tenant, context: Context) throws {
        guard checksClientCertificates || !tenant.certificates.isEmpty else { return }
        guard let certificate = checksClientCertificates ? context.clientCertificate : nil else {
            throw ProblemDetails(
                .clientCertificateRequired,
                "This tenant is bound to client certificates; connect over mutual TLS with one of them."
            )
        }
        guard tenant.certificates.contains(where: { $0.matches(certificate) }) else {
            throw ProblemDetails(.clientCertificateMismatch, "The connection's client certificate is not bound to this tenant.")
        }
    }

    func checkContentType(_ request: Request) throws {
        guard let value = request.headers[.contentType], Self.isJSONMediaType(value) else {
            throw ProblemDetails(.unsupportedMediaType, "Send the payment as Content-Type: application/json.")
        }
    }

    /// Whether a `Content-Type` value names `application/json`, in any case, with or without parameters
    /// (RFC 9110 §8.3.1), byte by byte: Foundation's trimming and lower-casing cost 2% of a scoring request.
    static func isJSONMediaType(_ value: String) -> Bool {
        isMediaType(value, "application/json")
    }

    /// Whether a `Content-Type` value names `expected` (lower case), in any case, with or without parameters.
    static func isMediaType(_ value: String, _ expected: String) -> Bool {
        var type = value.utf8[...]
        if let semicolon = type.firstIndex(of: UInt8(ascii: ";")) { type = type[..<semicolon] }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        while let first = type.first, blank(first) { type = type.dropFirst() }
        while let last = type.last, blank(last) { type = type.dropLast() }
        return type.elementsEqual(expected.utf8) { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 == expected : byte == expected
        }
    }

    func readBody(_ request: Request, limit: Int = Self.maxBodyBytes) async throws -> [UInt8] {
        let tooLarge = ProblemDetails(.payloadTooLarge, "The body must be at most \(limit) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        var bytes: [UInt8] = []
        for try await var chunk in request.body {
            guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge }
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }

    func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The score answer in the event's own JSON form (`EventCoding`), the bytes `JSONEncoder` used to write.
    func encode(_ response: ScoreResponse, headers: HTTPFields) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(
            status: .ok, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: EventCoding.encode(response)))
        )
    }
}
