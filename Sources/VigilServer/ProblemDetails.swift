import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
public import VigilGateway

/// An RFC 9457 problem: every non-2xx answer Vigil gives has this shape.
///
/// `detail` never repeats a submitted value, which could be personal data.
public struct ProblemDetails: Error, Sendable, Equatable {
    /// The stable kinds of problem. Their URNs are documented and never change meaning.
    public enum Kind: String, Sendable, CaseIterable {
        case malformedJSON = "malformed-json"
        case validationFailed = "validation-failed"
        case unauthorized
        case forbiddenPerspective = "forbidden-perspective"
        case notEntitled = "not-entitled"
        case addressNotAllowed = "address-not-allowed"
        case wrongRegion = "wrong-region"
        case rateLimited = "rate-limited"
        case quotaExhausted = "quota-exhausted"
        case clientCertificateRequired = "client-certificate-required"
        case clientCertificateMismatch = "client-certificate-mismatch"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case paymentInProgress = "payment-in-progress"
        case paymentIdReused = "payment-id-reused"
        case payloadTooLarge = "payload-too-large"
        case unsupportedMediaType = "unsupported-media-type"
        case invalidFileName = "invalid-file-name"
        case fileInProgress = "file-in-progress"
        case notReady = "not-ready"
        case unavailable
        case internalError = "internal-error"
        case perspectiveRequired = "perspective-required"
        case iso20022Malformed = "iso20022-malformed"
        case iso20022Refused = "iso20022-refused"
        case iso20022LimitExceeded = "iso20022-limit-exceeded"
        case iso20022UnsupportedMessage = "iso20022-unsupported-message"
        case iso20022MissingElement = "iso20022-missing-element"

        public var type: String { "urn:vigil:problem:" + rawValue }

        public var status: HTTPResponse.Status {
            switch self {
            case .malformedJSON, .validationFailed, .perspectiveRequired, .iso20022Malformed, .iso20022Refused, .iso20022LimitExceeded,
                 .iso20022UnsupportedMessage, .iso20022MissingElement: .badRequest
            case .unauthorized: .unauthorized
            case .forbiddenPerspective, .notEntitled, .addressNotAllowed, .wrongRegion, .clientCertificateRequired, .clientCertificateMismatch: .forbidden
            case .rateLimited, .quotaExhausted: .tooManyRequests
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .paymentInProgress, .paymentIdReused, .fileInProgress: .conflict
            case .invalidFileName: .badRequest
            case .payloadTooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .notReady, .unavailable: .serviceUnavailable
            case .internalError: .internalServerError
            }
        }

        public var title: String {
            switch self {
            case .malformedJSON: "Malformed JSON"
            case .validationFailed: "Validation failed"
            case .unauthorized: "Unauthorized"
            case .forbiddenPerspective: "Perspective not entitled"
            case .notEntitled: "Payment outside the tenant's entitlements"
            case .addressNotAllowed: "Address not allowed"
            case .wrongRegion: "Wrong region"
            case .rateLimited: "Rate limit exceeded"
            case .quotaExhausted: "Daily quota exhausted"
            case .clientCertificateRequired: "Client certificate required"
            case .clientCertificateMismatch: "Client certificate not bound to this tenant"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .paymentInProgress: "Payment in progress"
            case .paymentIdReused: "Payment id reused"
            case .payloadTooLarge: "Payload too large"
            case .unsupportedMediaType: "Unsupported media type"
            case .invalidFileName: "Invalid file name"
            case .fileInProgress: "File in progress"
            case .notReady: "Not ready"
            case .unavailable: "Service unavailable"
            case .internalError: "Internal error"
            case .perspectiveRequired: "Perspective required"
            case .iso20022Malformed: "Malformed ISO 20022 message"
            case .iso20022Refused: "Refused XML construct"
            case .iso20022LimitExceeded: "ISO 20022 message limit exceeded"
            case .iso20022UnsupportedMessage: "Unsupported ISO 20022 message"
            case .iso20022MissingElement: "Missing mandatory element"
            }
        }
    }

    public var kind: Kind
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(_ kind: Kind, _ detail: String, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var instance: String?
        var errors: [FieldError]?
    }

    /// The problem+json body, `instance` set to the request path: the bytes a response carries, or one result of a
    /// batch (`/v1/iso20022/pacs.008`).
    public func body(instance: String? = nil) -> [UInt8] {
        let body = Body(
            type: kind.type, title: kind.title, status: Int(kind.status.code), detail: detail, instance: instance,
            errors: errors.isEmpty ? nil : errors
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)).map { Array($0) } ?? Array(#"{"type":"urn:vigil:problem:internal-error","status":500}"#.utf8)
    }

    /// The problem+json response, `instance` set to the request path.
    public func response(instance: String? = nil) -> Response {
        let data = body(instance: instance)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: kind.status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
