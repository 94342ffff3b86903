import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilFiles
import VigilGateway
import VigilISO20022
import VigilProtection

extension VigilResponder {
    /// The `Vigil-Scheme` request header: the scheme of every transaction of a message, over what its payment type says.
    static var schemeHeader: HTTPField.Name { HTTPField.Name("Vigil-Scheme")! }

    /// `POST /v1/iso20022/pacs.008`: scores each `CdtTrfTxInf` of a pacs.008 (XML or Tazama's JSON) as
    /// `/v1/payments/score` would, answering `{"results": […]}` with one score body, or one problem object, per
    /// transaction in order. Whole-message problems (hostile or malformed XML, wrong namespace or version, a missing
    /// mandatory element) are a 400 with the element's path in `errors[].pointer`. See docs/iso20022.md.
    func scoreCreditTransfer(_ request: Request, context: Context, started: ContinuousClock.Instant) async throws -> Response {
        let admission = try await admit(request, context: context)
        let format = try iso20022Format(request)
        let perspective = try perspective(of: request, tenant: admission.tenant)
        let scheme = request.headers[Self.schemeHeader]
        if let scheme, case .failure(let rejection) = FieldRules.scheme(scheme) {
            throw ProblemDetails(
                .validationFailed, "The Vigil-Scheme header is not a scheme name; see errors.",
                errors: [FieldError(pointer: "/Vigil-Scheme", detail: rejection.reason)]
            )
        }
        var body = try await readBody(request, limit: Self.maxISO20022BodyBytes)
        let receivedAt = Self.now()
        let transfer: CreditTransfer
        do {
            transfer = try CreditTransfer(try ISO20022Document.read(body, format: format, kind: .pacs008))
        } catch {
            throw Self.problem(error)
        }
        // The plaintext body is not needed once read into the message tree. (The tree's strings are freed unwiped.)
        LockedMemory.wipe(&body)
        let mapping = CreditTransferMapping(perspective: perspective, scheme: scheme, bounds: engine.bounds, receivedAt: receivedAt)
        var results: [[UInt8]] = []
        results.reserveCapacity(transfer.transactions.count)
        for (index, transaction) in transfer.transactions.enumerated() {
            do {
                // One payment of the plan per transaction, as if each came to the score route; `admit` spent the first.
                if index > 0 { _ = try await spend(admission.tenant) }
                switch mapping.payment(transaction, in: transfer) {
                case .failure(let failure):
                    throw ProblemDetails(
                        .validationFailed, "The transaction has \(failure.errors.count) invalid element(s); see errors.", errors: failure.errors
                    )
                case .success(let payment):
                    let tokenized = try await tokenize(payment, admission: admission, receivedAt: receivedAt)
                    let response = try await score(tokenized, admission: admission, receivedAt: receivedAt, started: started, context: context)
                    results.append(EventCoding.encode(response))
                }
            } catch let problem as ProblemDetails {
                results.append(problem.body(instance: Route.pacs008.rawValue))
            }
        }
        var bytes = Array(#"{"results":["#.utf8)
        for (index, result) in results.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += result
        }
        bytes += Array("]}".utf8)
        var fields = admission.limits
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `POST /v1/iso20022/pacs.002` and `POST /v1/iso20022/camt.056`: records what a payment status report or a
    /// cancellation request says about payments already scored, as run-time labels (docs/labels.md): a final status
    /// (`ACSC`, `RJCT` with its reason, …) of each `TxInfAndSts`, and a fraud report for each recall with reason `FRAD`.
    /// A status that is not final, and a recall for another reason, is counted as ignored. Authenticated like
    /// `/v1/fraud-reports`, and like it spends no plan. All or nothing: one transaction that breaks the field rules
    /// refuses the message (400, its element in `errors[].pointer`) and nothing is recorded. Answers 200
    /// `{"recorded":N,"ignored":M}` once the labels are durable in the event log and applied.
    func recordISO20022Labels(_ request: Request, context: Context, kind: MessageKind) async throws -> Response {
        guard state.isRecovered else {
            throw ProblemDetails(.notReady, "Recovery from the event log is still running; retry shortly.", headers: [.retryAfter: "1"])
        }
        let tenant = try authenticateForData(request, context: context)
        guard let keys = state.current.keys.scoped(to: tenant.config.name) else {
            context.logger.critical("A tenant has no data key; its labels cannot be tokenised", metadata: ["vigil.tenant": .string(tenant.config.name)])
            throw ProblemDetails(.unavailable, "This tenant's data key is missing; nothing was recorded.")
        }
        let format = try iso20022Format(request)
        var body = try await readBody(request, limit: Self.maxISO20022BodyBytes)
        let receivedAt = Self.now()
        let results: [LabelMappingResult]
        do {
            let document = try ISO20022Document.read(body, format: format, kind: kind)
            results = kind == .pacs002
                ? LabelMapping.statuses(try StatusReport(document)) : LabelMapping.fraudReports(try CancellationRequest(document))
        } catch {
            throw Self.problem(error)
        }
        LockedMemory.wipe(&body)
        var (reports, outcomes, errors, ignored) = ([ParsedFraudReport](), [ParsedStatus](), [FieldError](), 0)
        for result in results {
            switch result {
            case .fraudReport(let report): reports.append(report)
            case .status(let status): outcomes.append(status)
            case .ignored: ignored += 1
            case .invalid(let failure): errors += failure.errors
            }
        }
        guard errors.isEmpty else {
            throw ProblemDetails(
                .validationFailed, "The message has \(errors.count) invalid element(s); see errors. Nothing was recorded.", errors: errors
            )
        }
        let recorded = try await recordLabels(
            fraudReports: reports, outcomes: outcomes, tenant: tenant.config.name, keys: keys,
            source: kind == .pacs002 ? .pacs002 : .camt056, receivedAt: receivedAt
        )
        context.logger.info(
            "Recorded ISO 20022 labels",
            metadata: [
                "vigil.tenant": .string(tenant.config.name), "vigil.iso20022.message": .string(kind.rawValue),
                "vigil.labels.count": .stringConvertible(recorded), "vigil.labels.ignored": .stringConvertible(ignored),
            ]
        )
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"recorded\":\(recorded),\"ignored\":\(ignored)}"))
        )
    }

    /// XML for `application/xml` and `text/xml`, JSON for `application/json`; anything else is 415.
    func iso20022Format(_ request: Request) throws -> MessageFormat {
        let value = request.headers[.contentType] ?? ""
        if Self.isMediaType(value, "application/xml") || Self.isMediaType(value, "text/xml") { return .xml }
        if Self.isJSONMediaType(value) { return .json }
        throw ProblemDetails(.unsupportedMediaType, "Send the message as Content-Type: application/xml (or text/xml) or application/json.")
    }

    /// `?perspective=sending|receiving`; without it the tenant's only entitled perspective. A tenant entitled to both
    /// must say which (400 `perspective-required`); one not entitled to the perspective asked is refused whole (403).
    func perspective(of request: Request, tenant: Tenant) throws -> Perspective {
        guard let text = request.uri.queryParameters.get("perspective") else {
            guard tenant.config.perspectives.count == 1, let only = tenant.config.perspectives.first else {
                throw ProblemDetails(
                    .perspectiveRequired,
                    "This tenant is entitled to both perspectives: say which with ?perspective=sending or ?perspective=receiving."
                )
            }
            return only
        }
        guard let perspective = Perspective(rawValue: text) else {
            throw ProblemDetails(
                .validationFailed, "The perspective query parameter is invalid; see errors.",
                errors: [FieldError(pointer: "?perspective", detail: "Must be one of: sending, receiving.")]
            )
        }
        guard tenant.isEntitled(to: perspective) else {
            throw ProblemDetails(.forbiddenPerspective, "This tenant is not entitled to score from the \(perspective.rawValue) perspective.")
        }
        return perspective
    }

    /// The 400 for a message refused whole, its type naming why.
    static func problem(_ error: ISO20022Error) -> ProblemDetails {
        let kind: ProblemDetails.Kind
        switch error.code {
        case .malformed: kind = .iso20022Malformed
        case .refused: kind = .iso20022Refused
        case .limitExceeded: kind = .iso20022LimitExceeded
        case .unsupportedMessage: kind = .iso20022UnsupportedMessage
        case .missingElement: kind = .iso20022MissingElement
        }
        return ProblemDetails(kind, error.message, errors: error.pointer.map { [FieldError(pointer: $0, detail: error.message)] } ?? [])
    }
}
