import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFiles
import VigilGateway
import VigilProtection

extension VigilResponder {
    /// `POST /v1/fraud-reports`: one report or `{"reports":[…]}` (docs/labels.md), authenticated as scoring is (a
    /// credential, a bound client certificate, the allow-list, the tenant's regions). Labels do not spend the usage
    /// plan, which counts scored payments. Answers 200 `{"recorded":N}` once every report is durable in the event log
    /// and applied; a bad report refuses the batch (400, nothing recorded).
    func fraudReports(_ request: Request, context: Context) async throws -> Response {
        guard state.isRecovered else {
            throw ProblemDetails(.notReady, "Recovery from the event log is still running; retry shortly.", headers: [.retryAfter: "1"])
        }
        let tenant = try authenticateForData(request, context: context)
        guard let keys = state.current.keys.scoped(to: tenant.config.name) else {
            context.logger.critical("A tenant has no data key; its reports cannot be tokenised", metadata: ["vigil.tenant": .string(tenant.config.name)])
            throw ProblemDetails(.unavailable, "This tenant's data key is missing; nothing was recorded.")
        }
        guard let type = request.headers[.contentType], Self.isJSONMediaType(type) else {
            throw ProblemDetails(.unsupportedMediaType, "Send the reports as Content-Type: application/json.")
        }
        var body = try await readBody(request, limit: FraudReportRequest.maxBodyBytes)
        let receivedAt = Instant(epochMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        let reports: [ParsedFraudReport]
        switch FraudReportRequest.decode(body) {
        case .success(let decoded): reports = decoded
        case .failure(.malformedJSON(let detail)): throw ProblemDetails(.malformedJSON, detail)
        case .failure(.invalid(let errors)):
            throw ProblemDetails(
                .validationFailed, "The request has \(errors.count) invalid field(s); see errors. Nothing was recorded.", errors: errors
            )
        }
        LockedMemory.wipe(&body)
        let recorded = try await recordLabels(
            fraudReports: reports, outcomes: [], tenant: tenant.config.name, keys: keys, source: .api, receivedAt: receivedAt
        )
        context.logger.info(
            "Recorded fraud reports", metadata: ["vigil.tenant": .string(tenant.config.name), "vigil.labels.count": .stringConvertible(recorded)]
        )
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"recorded\":\(recorded)}"))
        )
    }

    /// Records labels through ``LabelRecorder`` (all of them durable in the log, then applied), answering its failures
    /// as 503s: nothing recorded when the log refused them, a retry to send when the shared store did not take them all.
    func recordLabels(
        fraudReports: [ParsedFraudReport], outcomes: [ParsedStatus], tenant: String, keys: KeyRing, source: LabelSource, receivedAt: Instant
    ) async throws -> Int {
        do {
            return try await LabelRecorder(engine: engine).record(
                fraudReports: fraudReports, outcomes: outcomes, tenant: tenant, keys: keys, source: source, receivedAt: receivedAt
            )
        } catch {
            switch error.code {
            case .logUnavailable:
                if engine.log.failure != nil, state.markEventLogFailed() { metrics.setReady(false) }
                throw ProblemDetails(.unavailable, "The event log cannot record labels; nothing was recorded.")
            case .stateUnavailable:
                throw ProblemDetails(
                    .unavailable,
                    "The labels are logged but the shared state store did not take them all. Retry shortly: a label sent again counts once.",
                    headers: [.retryAfter: "1"]
                )
            }
        }
    }
}
