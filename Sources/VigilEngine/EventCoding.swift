public import VigilDomain
import VigilJSON

/// The JSON form of events, for export and the stream (and the log before binary records), and of the HTTP score
/// response. The log itself holds the compact binary records of `EventCoding+Record.swift`; ``decodeRecord(_:)``
/// reads both, and ``exportJSON(_:)`` renders either as this JSON.
///
/// Written by hand on `JSONWriter`, byte for byte what Foundation's `JSONEncoder` writes for the types'
/// `Codable` form with `[.sortedKeys, .withoutEscapingSlashes]` (the form the log has always held):
/// keys sorted by their UTF-8 bytes, absent optionals left out, missing feature values `null`. Tokens and
/// sealed bytes are lower-case hex, money `{"amount":"250.00","currency":"GBP"}`, instants `{"ms":…,"off":…}`.
/// `EventCodingTests` checks the equality on randomised events.
public enum EventCoding {
    /// The event as one JSON object.
    /// - Performance: 5.8 µs per simulated 2.3 KB event in a release build (`vigil-microbench`, stage 6a', then 6a),
    ///   against 103 µs with `JSONEncoder`.
    public static func encode(_ event: ScoredPaymentEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 3072)
        writer.write(event)
        return writer.bytes
    }

    /// The body of a `200` answer to `POST /v1/payments/score`.
    public static func encode(_ response: ScoreResponse) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.write(response)
        return writer.bytes
    }

    /// Reads an answer written by ``encode(_:)-(ScoreResponse)`` (a shared duplicate store keeps answers so).
    public static func decodeResponse(_ payload: [UInt8]) throws(EventDecodingError) -> ScoreResponse {
        let document: JSONValue
        do {
            document = try JSONParser.parse(payload)
        } catch {
            throw EventDecodingError(code: .malformedJSON, message: error.description)
        }
        return try EventObject(document, path: "").response()
    }

    /// Reads an event written by ``encode(_:)-(ScoredPaymentEvent)`` (or by `JSONEncoder` from its `Codable`
    /// form). Members it does not know are ignored, as `JSONDecoder` ignores them. It reads the JSON form only: log
    /// records, which are binary since issue 12, are read with ``decodeRecord(_:)``.
    /// - Throws: ``EventDecodingError`` naming the field at fault, or the byte offset of a syntax error.
    public static func decode(_ payload: [UInt8]) throws(EventDecodingError) -> ScoredPaymentEvent {
        let document: JSONValue
        do {
            document = try JSONParser.parse(payload)
        } catch {
            throw EventDecodingError(code: .malformedJSON, message: error.description)
        }
        return try EventObject(document, path: "").event()
    }

    /// The `kind` of a ``DuplicateAnsweredEvent`` record. A scored-payment event has no `kind`, so its form is the
    /// one the log has always held.
    public static let duplicateAnsweredKind = "duplicateAnswered"

    /// A duplicate-answered record: `{"kind":"duplicateAnswered","originalScoreId":…,"paymentId":…,"receivedAt":…,
    /// "tenant":…}`, keys sorted as in every event.
    public static func encode(_ event: DuplicateAnsweredEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.write(event)
        return writer.bytes
    }

    /// The `kind` of a ``ShadowScoreEvent`` record.
    public static let shadowKind = "shadow"

    /// A shadow record: `{"kind":"shadow","modelVersion":…,"paymentId":…,"probability":…,"receivedAt":…,"score":…,
    /// "scoreId":…,"tenant":…}`, keys sorted as in every event.
    public static func encode(_ event: ShadowScoreEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.write(event)
        return writer.bytes
    }

    /// Reads any event-log record: a binary record (``record(_:)-(ScoredPaymentEvent)``, told by its first byte), or
    /// a JSON one as logs held before binary records: a scored-payment event, or one of the kinds named by a `kind`
    /// member. Everything that reads log payloads goes through here.
    /// - Throws: ``EventDecodingError``, `invalidValue` for a `kind` this version does not know, `unknownFormat` for a
    ///   binary format byte it does not know, `truncated` for a record that ends inside a field.
    public static func decodeRecord(_ payload: [UInt8]) throws(EventDecodingError) -> LoggedEvent {
        guard let first = payload.first else {
            throw EventDecodingError(code: .truncated, message: "the record is empty")
        }
        guard isJSON(first) else { return try decodeBinaryRecord(payload) }
        let document: JSONValue
        do {
            document = try JSONParser.parse(payload)
        } catch {
            throw EventDecodingError(code: .malformedJSON, message: error.description)
        }
        let object = try EventObject(document, path: "")
        guard let kind = try object.optionalString("kind") else { return .scored(try object.event()) }
        switch kind {
        case duplicateAnsweredKind: return .duplicateAnswered(try object.duplicateAnswered())
        case intakeKind: return .intake(try object.intake())
        case shadowKind: return .shadow(try object.shadow())
        case labelKind: return .label(try object.label())
        default:
            throw object.invalid("kind", "is not a kind of event this version reads (\(duplicateAnsweredKind), \(intakeKind), \(labelKind), \(shadowKind))")
        }
    }
}

/// One record of the event log, read.
public enum LoggedEvent: Sendable, Hashable {
    /// A payment scored and acknowledged.
    case scored(ScoredPaymentEvent)
    /// An exact retry answered with the original answer; nothing scored.
    case duplicateAnswered(DuplicateAnsweredEvent)
    /// A record of a daily file, loaded (issue 13).
    case intake(IntakeEvent)
    /// The challenger's score for a payment the champion scored (issue 14); no state.
    case shadow(ShadowScoreEvent)
    /// A fraud report or outcome received at run time (issue 14).
    case label(LabelEvent)

    public var tenant: String {
        switch self {
        case .scored(let event): event.tenant
        case .duplicateAnswered(let event): event.tenant
        case .intake(let event): event.tenant
        case .shadow(let event): event.tenant
        case .label(let event): event.tenant
        }
    }

    /// Whether the record is a loaded daily-file record or a run-time label: reference data, not a payment.
    public var isReferenceData: Bool {
        switch self {
        case .intake, .label: true
        case .scored, .duplicateAnswered, .shadow: false
        }
    }

    /// When the node received the request or the label, or loaded the intake record.
    public var receivedAt: Instant {
        switch self {
        case .scored(let event): event.receivedAt
        case .duplicateAnswered(let event): event.receivedAt
        case .intake(let event): event.loadedAt
        case .shadow(let event): event.receivedAt
        case .label(let event): event.receivedAt
        }
    }
}

/// An event-log record that this version cannot read.
public struct EventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A broad classification of what is wrong with the record.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case malformedJSON, missingField, wrongType, invalidValue, truncated, unknownFormat
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The record is not JSON; the message gives the byte offset.
        public static let malformedJSON = Code(.malformedJSON)
        /// A field every event has is absent.
        public static let missingField = Code(.missingField)
        /// A field holds the wrong kind of JSON value.
        public static let wrongType = Code(.wrongType)
        /// A field has the right kind but an unusable value: an unknown currency, a token that is not 64 hex digits.
        public static let invalidValue = Code(.invalidValue)
        /// A binary record ends inside a field (or is empty); the message names the field and the byte offset.
        public static let truncated = Code(.truncated)
        /// A binary record's format byte is not one this version reads.
        public static let unknownFormat = Code(.unknownFormat)

        public var description: String {
            switch self.wrapped {
            case .malformedJSON: "malformed JSON"
            case .missingField: "missing field"
            case .wrongType: "wrong type"
            case .invalidValue: "invalid value"
            case .truncated: "truncated record"
            case .unknownFormat: "unknown record format"
            }
        }
    }

    public var code: Code
    /// What is wrong and where, such as `'request.amount.currency' is not an active ISO 4217 code`. It names
    /// fields, never their values.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}

// MARK: - Writing

extension JSONWriter {
    /// Every key of the event form is fixed, so it is written from a `StaticString`.
    mutating func member(_ name: StaticString) {
        self.key(name)
    }

    mutating func write(_ event: ScoredPaymentEvent) {
        self.beginObject()
        self.member("features")
        self.beginArray()
        for value in event.features {
            if let value {
                self.double(value)
            } else {
                self.null()
            }
        }
        self.endArray()
        self.member("modelVersion")
        self.string(event.modelVersion)
        self.member("paymentId")
        self.string(event.paymentId)
        self.member("receivedAt")
        self.write(event.receivedAt)
        self.member("request")
        self.write(event.request)
        self.member("response")
        self.write(event.response)
        self.member("tenant")
        self.string(event.tenant)
        self.endObject()
    }

    mutating func write(_ event: DuplicateAnsweredEvent) {
        self.beginObject()
        self.member("kind")
        self.string(EventCoding.duplicateAnsweredKind)
        self.member("originalScoreId")
        self.string(event.originalScoreId)
        self.member("paymentId")
        self.string(event.paymentId)
        self.member("receivedAt")
        self.write(event.receivedAt)
        self.member("tenant")
        self.string(event.tenant)
        self.endObject()
    }

    mutating func write(_ event: ShadowScoreEvent) {
        self.beginObject()
        self.member("kind")
        self.string(EventCoding.shadowKind)
        self.member("modelVersion")
        self.string(event.modelVersion)
        self.member("paymentId")
        self.string(event.paymentId)
        self.member("probability")
        self.double(event.probability)
        self.member("receivedAt")
        self.write(event.receivedAt)
        self.member("score")
        self.int(event.score)
        self.member("scoreId")
        self.string(event.scoreId)
        self.member("tenant")
        self.string(event.tenant)
        self.endObject()
    }

    mutating func write(_ payment: TokenizedPayment) {
        self.beginObject()
        self.member("amount")
        self.write(payment.amount)
        if let channel = payment.channel {
            self.member("channel")
            self.string(channel)
        }
        if let confirmation = payment.confirmationOfPayee {
            self.member("confirmationOfPayee")
            self.string(confirmation.rawValue)
        }
        self.member("createdAt")
        self.write(payment.createdAt)
        self.member("creditor")
        self.write(payment.creditor)
        self.member("debtor")
        self.write(payment.debtor)
        if let device = payment.device {
            self.member("device")
            self.write(device)
        }
        if let ip = payment.ip {
            self.member("ip")
            self.write(ip)
        }
        if let firstSeen = payment.payeeFirstSeenAt {
            self.member("payeeFirstSeenAt")
            self.write(firstSeen)
        }
        self.member("paymentId")
        self.string(payment.paymentId)
        self.member("perspective")
        self.string(payment.perspective.rawValue)
        self.member("scheme")
        self.string(payment.scheme)
        if let reference = payment.sealedReference {
            self.member("sealedReference")
            self.write(reference)
        }
        self.member("type")
        self.string(payment.type.rawValue)
        if let uetr = payment.uetr {
            self.member("uetr")
            self.string(uetr)
        }
        self.endObject()
    }

    mutating func write(_ party: TokenizedParty) {
        self.beginObject()
        self.member("account")
        self.write(party.account)
        if let agent = party.agent {
            self.member("agent")
            self.string(agent)
        }
        if let institution = party.institution {
            self.member("institution")
            self.beginObject()
            self.member("type")
            self.string(institution.type.rawValue)
            self.member("value")
            self.string(institution.value)
            self.endObject()
        }
        if let name = party.name {
            self.member("name")
            self.write(name)
        }
        self.member("sealedAccount")
        self.write(party.sealedAccount)
        if let sealedName = party.sealedName {
            self.member("sealedName")
            self.write(sealedName)
        }
        self.endObject()
    }

    mutating func write(_ response: ScoreResponse) {
        self.beginObject()
        self.member("decision")
        self.string(response.decision.rawValue)
        if let degraded = response.degraded {
            self.member("degraded")
            self.bool(degraded)
        }
        self.member("duplicate")
        self.bool(response.duplicate)
        self.member("modelVersion")
        self.string(response.modelVersion)
        self.member("paymentId")
        self.string(response.paymentId)
        self.member("processingMicros")
        self.int(response.processingMicros)
        self.member("reasons")
        self.beginArray()
        for reason in response.reasons {
            self.beginObject()
            self.member("code")
            self.string(reason.code)
            self.member("contribution")
            self.double(reason.contribution)
            self.member("feature")
            self.string(reason.feature)
            self.endObject()
        }
        self.endArray()
        self.member("rules")
        self.beginArray()
        for firing in response.rules {
            self.beginObject()
            self.member("name")
            self.string(firing.name)
            self.member("outcome")
            self.string(firing.outcome.rawValue)
            self.endObject()
        }
        self.endArray()
        self.member("score")
        self.int(response.score)
        self.member("scoreId")
        self.string(response.scoreId)
        self.endObject()
    }

    mutating func write(_ instant: Instant) {
        self.beginObject()
        self.member("ms")
        self.int(instant.epochMillis)
        self.member("off")
        self.int(instant.utcOffsetSeconds)
        self.endObject()
    }

    /// `Money.decimalString`, built on the stack: `250.00` for 25000 minor units of a two-decimal currency.
    mutating func write(_ money: Money) {
        self.beginObject()
        self.member("amount")
        let scale = money.currency.minorUnits
        if money.minorUnits >= 0 {
            // Right to left: `scale` fraction digits (zero-padded), the point, then at least one integer digit.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20 + 1 + scale) { text in
                var start = text.count
                var rest = money.minorUnits
                for _ in 0..<scale {
                    start -= 1
                    text[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                if scale > 0 {
                    start -= 1
                    text[start] = UInt8(ascii: ".")
                }
                repeat {
                    start -= 1
                    text[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                } while rest > 0
                self.string(utf8: UnsafeBufferPointer(rebasing: text[start...]))
            }
        } else {
            self.string(money.decimalString)
        }
        self.member("currency")
        self.string(money.currency.code)
        self.endObject()
    }

    /// The 64 lower-case hex digits of `Token.hex`.
    mutating func write(_ token: Token) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { text in
            Self.hex(token.a, into: text, at: 0)
            Self.hex(token.b, into: text, at: 16)
            Self.hex(token.c, into: text, at: 32)
            Self.hex(token.d, into: text, at: 48)
            self.string(utf8: UnsafeBufferPointer(text))
        }
    }

    /// The 16 hex digits of `word`, most significant first.
    private static func hex(_ word: UInt64, into text: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for nibble in 0..<16 {
            text[offset + nibble] = Self.hexDigit(UInt8(truncatingIfNeeded: word >> (60 - 4 * nibble)) & 0xF)
        }
    }

    /// `{"c": hex of nonce ‖ ciphertext ‖ tag, "k": key version}`.
    mutating func write(_ sealed: SealedValue) {
        self.beginObject()
        self.member("c")
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: sealed.bytes.count * 2) { text in
            for (index, byte) in sealed.bytes.enumerated() {
                text[2 * index] = Self.hexDigit(byte >> 4)
                text[2 * index + 1] = Self.hexDigit(byte & 0xF)
            }
            self.string(utf8: UnsafeBufferPointer(text))
        }
        self.member("k")
        self.int(sealed.keyVersion)
        self.endObject()
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

// MARK: - Reading

/// One object of an event being read, with its path for messages (`request.debtor`).
struct EventObject {
    let members: [JSONValue.Member]
    let path: String

    init(_ value: JSONValue, path: String) throws(EventDecodingError) {
        guard case .object(let members) = value else {
            throw EventDecodingError(
                code: .wrongType,
                message: "\(path.isEmpty ? "the record" : "'\(path)'") is \(value.kindDescription), expected an object"
            )
        }
        self.members = members
        self.path = path
    }

    func fieldPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    /// The member's value; nil when it is absent or null, as `decodeIfPresent` reads it.
    func optional(_ key: String) -> JSONValue? {
        for member in self.members where member.key == key {
            if case .null = member.value {
                return nil
            }
            return member.value
        }
        return nil
    }

    func required(_ key: String) throws(EventDecodingError) -> JSONValue {
        guard let value = self.optional(key) else {
            throw EventDecodingError(code: .missingField, message: "'\(self.fieldPath(key))' is missing")
        }
        return value
    }

    func wrongType(_ key: String, _ value: JSONValue, expected: String) -> EventDecodingError {
        EventDecodingError(
            code: .wrongType, message: "'\(self.fieldPath(key))' is \(value.kindDescription), expected \(expected)"
        )
    }

    func invalid(_ key: String, _ problem: String) -> EventDecodingError {
        EventDecodingError(code: .invalidValue, message: "'\(self.fieldPath(key))' \(problem)")
    }

    func string(_ value: JSONValue, _ key: String) throws(EventDecodingError) -> String {
        guard case .string(let text) = value else {
            throw self.wrongType(key, value, expected: "a string")
        }
        return text
    }

    func string(_ key: String) throws(EventDecodingError) -> String {
        try self.string(try self.required(key), key)
    }

    func optionalString(_ key: String) throws(EventDecodingError) -> String? {
        guard let value = self.optional(key) else {
            return nil
        }
        return try self.string(value, key)
    }

    func integer<Integer: FixedWidthInteger>(_ key: String, as type: Integer.Type) throws(EventDecodingError) -> Integer {
        let value = try self.required(key)
        guard case .number(let text) = value else {
            throw self.wrongType(key, value, expected: "an integer")
        }
        guard let integer = Integer(text) else {
            throw self.invalid(key, "is not an integer in the range of \(Integer.self)")
        }
        return integer
    }

    func double(_ value: JSONValue, _ key: String) throws(EventDecodingError) -> Double {
        guard case .number(let text) = value, let number = Double(text) else {
            throw self.wrongType(key, value, expected: "a number")
        }
        return number
    }

    func bool(_ key: String) throws(EventDecodingError) -> Bool {
        let value = try self.required(key)
        guard case .bool(let flag) = value else {
            throw self.wrongType(key, value, expected: "a boolean")
        }
        return flag
    }

    func array(_ key: String) throws(EventDecodingError) -> [JSONValue] {
        let value = try self.required(key)
        guard case .array(let elements) = value else {
            throw self.wrongType(key, value, expected: "an array")
        }
        return elements
    }

    func object(_ key: String) throws(EventDecodingError) -> EventObject {
        try EventObject(try self.required(key), path: self.fieldPath(key))
    }

    func optionalObject(_ key: String) throws(EventDecodingError) -> EventObject? {
        guard let value = self.optional(key) else {
            return nil
        }
        return try EventObject(value, path: self.fieldPath(key))
    }

    func enumeration<Value: RawRepresentable & CaseIterable>(
        _ value: JSONValue, _ key: String, as type: Value.Type
    ) throws(EventDecodingError) -> Value where Value.RawValue == String {
        guard let parsed = Value(rawValue: try self.string(value, key)) else {
            throw self.invalid(key, "is not one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return parsed
    }

    func enumeration<Value: RawRepresentable & CaseIterable>(
        _ key: String, as type: Value.Type
    ) throws(EventDecodingError) -> Value where Value.RawValue == String {
        try self.enumeration(try self.required(key), key, as: type)
    }

    func token(_ value: JSONValue, _ key: String) throws(EventDecodingError) -> Token {
        guard let token = Token(hex: try self.string(value, key)) else {
            throw self.invalid(key, "is not a token (64 hex digits)")
        }
        return token
    }

    func token(_ key: String) throws(EventDecodingError) -> Token {
        try self.token(try self.required(key), key)
    }

    func optionalToken(_ key: String) throws(EventDecodingError) -> Token? {
        guard let value = self.optional(key) else {
            return nil
        }
        return try self.token(value, key)
    }

    func event() throws(EventDecodingError) -> ScoredPaymentEvent {
        let featureValues = try self.array("features")
        var features: [Double?] = []
        features.reserveCapacity(featureValues.count)
        for (index, value) in featureValues.enumerated() {
            switch value {
            case .null:
                features.append(nil)
            case .number(let text):
                guard let number = Double(text) else {
                    throw self.invalid("features[\(index)]", "is not a number")
                }
                features.append(number)
            default:
                throw self.wrongType("features[\(index)]", value, expected: "a number or null")
            }
        }
        var event = ScoredPaymentEvent(
            tenant: try self.string("tenant"),
            receivedAt: try self.object("receivedAt").instant(),
            request: try self.object("request").payment(),
            response: try self.object("response").response(),
            features: []
        )
        // The stored copies, not the ones the initializer derives, so reading never changes a record.
        event.paymentId = try self.string("paymentId")
        event.modelVersion = try self.string("modelVersion")
        event.features = features
        return event
    }

    func duplicateAnswered() throws(EventDecodingError) -> DuplicateAnsweredEvent {
        DuplicateAnsweredEvent(
            tenant: try self.string("tenant"), paymentId: try self.string("paymentId"),
            receivedAt: try self.object("receivedAt").instant(), originalScoreId: try self.string("originalScoreId")
        )
    }

    func shadow() throws(EventDecodingError) -> ShadowScoreEvent {
        let probability = try self.double(try self.required("probability"), "probability")
        guard probability >= 0, probability <= 1 else { throw self.invalid("probability", "is not between 0 and 1") }
        let score = try self.integer("score", as: Int.self)
        guard (0...999).contains(score) else { throw self.invalid("score", "is not between 0 and 999") }
        return ShadowScoreEvent(
            tenant: try self.string("tenant"), paymentId: try self.string("paymentId"), scoreId: try self.string("scoreId"),
            receivedAt: try self.object("receivedAt").instant(), modelVersion: try self.string("modelVersion"), score: score,
            probability: probability
        )
    }

    func instant() throws(EventDecodingError) -> Instant {
        Instant(epochMillis: try self.integer("ms", as: Int64.self), utcOffsetSeconds: try self.integer("off", as: Int32.self))
    }

    func money() throws(EventDecodingError) -> Money {
        guard let currency = Currency(code: try self.string("currency")) else {
            throw self.invalid("currency", "is not an active ISO 4217 code")
        }
        guard case .success(let money) = Money.parse(try self.string("amount"), currency: currency) else {
            throw self.invalid("amount", "is not a positive decimal amount in its currency")
        }
        return money
    }

    func sealed() throws(EventDecodingError) -> SealedValue {
        let keyVersion = try self.integer("k", as: UInt32.self)
        guard let bytes = Hex.decode(try self.string("c")) else {
            throw self.invalid("c", "is not hex")
        }
        return SealedValue(keyVersion: keyVersion, bytes: bytes)
    }

    func party() throws(EventDecodingError) -> TokenizedParty {
        TokenizedParty(
            account: try self.token("account"),
            sealedAccount: try self.object("sealedAccount").sealed(),
            name: try self.optionalToken("name"),
            sealedName: try self.optionalObject("sealedName")?.sealed(),
            agent: try self.optionalString("agent"),
            institution: try self.optionalObject("institution").map { (object) throws(EventDecodingError) in
                InstitutionCode(
                    type: try object.enumeration(try object.required("type"), "type", as: InstitutionCodeType.self),
                    value: try object.string("value")
                )
            }
        )
    }

    func payment() throws(EventDecodingError) -> TokenizedPayment {
        let confirmation = try self.optional("confirmationOfPayee").map { (value) throws(EventDecodingError) in
            try self.enumeration(value, "confirmationOfPayee", as: ConfirmationOfPayee.self)
        }
        return TokenizedPayment(
            paymentId: try self.string("paymentId"),
            perspective: try self.enumeration("perspective", as: Perspective.self),
            type: try self.enumeration("type", as: PaymentType.self),
            scheme: try self.string("scheme"),
            channel: try self.optionalString("channel"),
            amount: try self.object("amount").money(),
            createdAt: try self.object("createdAt").instant(),
            debtor: try self.object("debtor").party(),
            creditor: try self.object("creditor").party(),
            payeeFirstSeenAt: try self.optionalObject("payeeFirstSeenAt")?.instant(),
            confirmationOfPayee: confirmation,
            device: try self.optionalToken("device"),
            ip: try self.optionalToken("ip"),
            sealedReference: try self.optionalObject("sealedReference")?.sealed(),
            uetr: try self.optionalString("uetr")
        )
    }

    func response() throws(EventDecodingError) -> ScoreResponse {
        var reasons: [Reason] = []
        for (index, value) in try self.array("reasons").enumerated() {
            let reason = try EventObject(value, path: self.fieldPath("reasons[\(index)]"))
            reasons.append(Reason(
                code: try reason.string("code"),
                feature: try reason.string("feature"),
                contribution: try reason.double(try reason.required("contribution"), "contribution")
            ))
        }
        var rules: [RuleFiring] = []
        for (index, value) in try self.array("rules").enumerated() {
            let firing = try EventObject(value, path: self.fieldPath("rules[\(index)]"))
            rules.append(RuleFiring(name: try firing.string("name"), outcome: try firing.enumeration("outcome", as: Decision.self)))
        }
        return ScoreResponse(
            paymentId: try self.string("paymentId"),
            scoreId: try self.string("scoreId"),
            score: try self.integer("score", as: Int.self),
            decision: try self.enumeration("decision", as: Decision.self),
            reasons: reasons,
            rules: rules,
            duplicate: try self.bool("duplicate"),
            modelVersion: try self.string("modelVersion"),
            processingMicros: try self.integer("processingMicros", as: Int.self),
            degraded: self.optional("degraded") == nil ? nil : try self.bool("degraded")
        )
    }
}
