public import VigilDomain
import VigilFeatures

/// The compact binary form of event-log records (docs/event-log.md, "Record format").
///
/// A record starts with a format byte that names its kind and version and is never `{` (nor JSON whitespace), so a
/// reader tells it from the JSON records older logs hold by its first byte. Tokens and sealed bytes are raw, integers
/// are LEB128 varints (signed ones zigzag-encoded), feature values and contributions keep their exact Float64 bits
/// (as an integer, a Float32 or a Float64, whichever holds them exactly), and reasons name their feature by its
/// stable index. `EventCodingTests` checks that every record reads back equal and renders the same JSON.
extension EventCoding {
    /// The leading byte of each binary record: its kind and format version.
    public enum RecordFormat {
        /// A scored-payment event, format 1.
        public static let scoredEvent1: UInt8 = 0x01
        /// A duplicate-answered record, format 1.
        public static let duplicateAnswered1: UInt8 = 0x02
        /// A loaded daily-file record (``IntakeEvent``), format 1.
        public static let intake1: UInt8 = 0x03
        /// A shadow record (``ShadowScoreEvent``), format 1.
        public static let shadow1: UInt8 = 0x05
        /// A label or outcome received at run time (``LabelEvent``), format 1.
        public static let label1: UInt8 = 0x04
    }

    /// The event as the engine appends it to the log: the compact binary record, about a third of its JSON size.
    /// - Performance: see `vigil-microbench` stage 6a (encode) and 6d (decode); BENCHMARKS.md has the figures.
    public static func record(_ event: ScoredPaymentEvent) -> [UInt8] {
        var writer = RecordWriter(capacity: 1024)
        writer.write(event)
        return writer.bytes
    }

    /// A duplicate-answered record in the compact binary form.
    public static func record(_ event: DuplicateAnsweredEvent) -> [UInt8] {
        var writer = RecordWriter(capacity: 64)
        writer.byte(RecordFormat.duplicateAnswered1)
        writer.string(event.tenant)
        writer.string(event.paymentId)
        writer.instant(event.receivedAt)
        writer.string(event.originalScoreId)
        return writer.bytes
    }

    /// A shadow record in the compact binary form: a flags byte (bit 0: the score id is text, not a packed UUID),
    /// tenant, payment id, score id, receive time, model version, score, and the probability's Float64 bits.
    public static func record(_ event: ShadowScoreEvent) -> [UInt8] {
        var writer = RecordWriter(capacity: 96)
        let scoreId = ScoreID.pack(event.scoreId)
        writer.byte(RecordFormat.shadow1)
        writer.byte(scoreId == nil ? ShadowFlags.scoreIdText : 0)
        writer.string(event.tenant)
        writer.string(event.paymentId)
        if let scoreId { writer.uuid(scoreId) } else { writer.string(event.scoreId) }
        writer.instant(event.receivedAt)
        writer.string(event.modelVersion)
        writer.signed(Int64(event.score))
        writer.fixed64(event.probability.bitPattern)
        return writer.bytes
    }

    /// The JSON object `vigil events export` prints for a record (before it splices the sequence number in), and the
    /// form records take outside the node: a JSON record as it is stored, byte for byte; a binary record as
    /// ``encode(_:)-(ScoredPaymentEvent)`` or ``encode(_:)-(DuplicateAnsweredEvent)`` writes the event it holds,
    /// which is what the engine stored before it wrote binary records.
    /// - Throws: ``EventDecodingError`` for a record that is neither.
    public static func exportJSON(_ payload: [UInt8]) throws(EventDecodingError) -> [UInt8] {
        if payload.first == UInt8(ascii: "{") {
            return payload
        }
        return exportJSON(try decodeRecord(payload), stored: payload)
    }

    /// ``exportJSON(_:)`` of a record already read from `payload`, without reading it again.
    public static func exportJSON(_ record: LoggedEvent, stored payload: [UInt8]) -> [UInt8] {
        if payload.first == UInt8(ascii: "{") {
            return payload
        }
        switch record {
        case .scored(let event): return encode(event)
        case .duplicateAnswered(let event): return encode(event)
        case .intake(let event): return encode(event)
        case .shadow(let event): return encode(event)
        case .label(let event): return encode(event)
        }
    }

    /// Whether a record's first byte starts JSON (an object, possibly after whitespace) rather than a binary format.
    static func isJSON(_ first: UInt8) -> Bool {
        first == UInt8(ascii: "{") || first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D
    }

    /// Reads a binary record (``decodeRecord(_:)`` sends it here by its first byte).
    static func decodeBinaryRecord(_ payload: [UInt8]) throws(EventDecodingError) -> LoggedEvent {
        let result: Result<LoggedEvent, EventDecodingError> = payload.withUnsafeBufferPointer { bytes in
            var reader = RecordReader(bytes)
            do throws(EventDecodingError) {
                let event: LoggedEvent
                switch try reader.byte("format") {
                case RecordFormat.scoredEvent1:
                    event = .scored(try reader.scoredEvent())
                case RecordFormat.duplicateAnswered1:
                    event = .duplicateAnswered(DuplicateAnsweredEvent(
                        tenant: try reader.string("tenant"), paymentId: try reader.string("paymentId"),
                        receivedAt: try reader.instant("receivedAt"), originalScoreId: try reader.string("originalScoreId")
                    ))
                case RecordFormat.intake1:
                    event = .intake(try reader.intakeEvent())
                case RecordFormat.shadow1:
                    event = .shadow(try reader.shadowEvent())
                case RecordFormat.label1:
                    event = .label(try reader.labelEvent())
                case let format:
                    throw EventDecodingError(
                        code: .unknownFormat, message: "the record's format byte \(format) is not one this version reads"
                    )
                }
                try reader.expectEnd()
                return .success(event)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

// MARK: - Layout

/// Bits of the scored event's first flags byte.
private enum EventFlags {
    static let requestPaymentIdElsewhere: UInt8 = 1 << 0
    static let responsePaymentIdElsewhere: UInt8 = 1 << 1
    static let responseModelVersionElsewhere: UInt8 = 1 << 2
    static let duplicate: UInt8 = 1 << 3
    static let degradedPresent: UInt8 = 1 << 4
    static let degradedTrue: UInt8 = 1 << 5
    static let scoreIdText: UInt8 = 1 << 6
    static let known: UInt8 = 0x7F
}

/// Bits of a shadow record's flags byte.
private enum ShadowFlags {
    static let scoreIdText: UInt8 = 1 << 0
    static let known: UInt8 = 0x01
}

/// Bits of the payment's optional-fields byte.
private enum PaymentFlags {
    static let channel: UInt8 = 1 << 0
    static let confirmationOfPayee: UInt8 = 1 << 1
    static let payeeFirstSeenAt: UInt8 = 1 << 2
    static let device: UInt8 = 1 << 3
    static let ip: UInt8 = 1 << 4
    static let sealedReference: UInt8 = 1 << 5
    static let uetrPacked: UInt8 = 1 << 6
    static let uetrText: UInt8 = 1 << 7
}

/// Bits of a party's optional-fields byte.
private enum PartyFlags {
    static let name: UInt8 = 1 << 0
    static let sealedName: UInt8 = 1 << 1
    static let agent: UInt8 = 1 << 2
    /// Since issue 13: the institution code (its type's index, then its text). Records without it read as before.
    static let institution: UInt8 = 1 << 3
    static let known: UInt8 = 0x0F
}

/// The 2-bit tag of each feature value.
private enum FeatureTag {
    static let missing: UInt8 = 0
    /// An integral value, held as a zigzag varint.
    static let integer: UInt8 = 1
    /// A value a Float32 holds exactly, as its 4 bytes.
    static let float32: UInt8 = 2
    static let float64: UInt8 = 3
}

/// The contribution of a reason: the low bit of its header varint.
private enum ContributionForm {
    /// Whole millionths (how the engine rounds contributions), as a zigzag varint.
    static let micros: UInt64 = 1
}

// MARK: - Writing

struct RecordWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) {
        self.bytes.append(value)
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        self.bytes.append(UInt8(rest))
    }

    mutating func signed(_ value: Int64) {
        self.varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            self.varint(UInt64(utf8.count))
            self.bytes.append(contentsOf: utf8)
        }
    }

    mutating func token(_ token: Token) {
        withUnsafeBytes(of: (token.a.bigEndian, token.b.bigEndian, token.c.bigEndian, token.d.bigEndian)) {
            self.bytes.append(contentsOf: $0)
        }
    }

    mutating func sealed(_ sealed: SealedValue) {
        self.varint(UInt64(sealed.keyVersion))
        self.varint(UInt64(sealed.bytes.count))
        self.bytes.append(contentsOf: sealed.bytes)
    }

    mutating func instant(_ instant: Instant) {
        self.signed(instant.epochMillis)
        self.signed(Int64(instant.utcOffsetSeconds))
    }

    mutating func uuid(_ halves: (UInt64, UInt64)) {
        withUnsafeBytes(of: (halves.0.bigEndian, halves.1.bigEndian)) { self.bytes.append(contentsOf: $0) }
    }

    mutating func enumeration<Value: CaseIterable & Equatable>(_ value: Value) where Value.AllCases == [Value] {
        self.byte(UInt8(Value.allCases.firstIndex(of: value)!))
    }

    mutating func write(_ event: ScoredPaymentEvent) {
        let response = event.response
        let scoreId = ScoreID.pack(response.scoreId)
        var flags: UInt8 = 0
        if event.request.paymentId != event.paymentId { flags |= EventFlags.requestPaymentIdElsewhere }
        if response.paymentId != event.paymentId { flags |= EventFlags.responsePaymentIdElsewhere }
        if response.modelVersion != event.modelVersion { flags |= EventFlags.responseModelVersionElsewhere }
        if response.duplicate { flags |= EventFlags.duplicate }
        if let degraded = response.degraded { flags |= EventFlags.degradedPresent | (degraded ? EventFlags.degradedTrue : 0) }
        if scoreId == nil { flags |= EventFlags.scoreIdText }
        self.byte(EventCoding.RecordFormat.scoredEvent1)
        self.byte(flags)
        self.string(event.tenant)
        self.string(event.paymentId)
        self.string(event.modelVersion)
        self.instant(event.receivedAt)
        if flags & EventFlags.requestPaymentIdElsewhere != 0 { self.string(event.request.paymentId) }
        self.write(event.request)
        if flags & EventFlags.responsePaymentIdElsewhere != 0 { self.string(response.paymentId) }
        if flags & EventFlags.responseModelVersionElsewhere != 0 { self.string(response.modelVersion) }
        if let scoreId { self.uuid(scoreId) } else { self.string(response.scoreId) }
        self.signed(Int64(response.score))
        self.enumeration(response.decision)
        self.signed(Int64(response.processingMicros))
        self.varint(UInt64(response.reasons.count))
        for reason in response.reasons {
            var header: UInt64 = 0
            if let feature = Feature(name: reason.feature), feature.reasonCode == reason.code {
                header = UInt64(feature.rawValue + 1) << 1
            }
            let micros = Self.micros(reason.contribution)
            if micros != nil { header |= ContributionForm.micros }
            self.varint(header)
            if header >> 1 == 0 {
                self.string(reason.code)
                self.string(reason.feature)
            }
            if let micros { self.signed(micros) } else { self.fixed64(reason.contribution.bitPattern) }
        }
        self.varint(UInt64(response.rules.count))
        for firing in response.rules {
            self.string(firing.name)
            self.enumeration(firing.outcome)
        }
        self.features(event.features)
    }

    /// `value` as whole millionths, when dividing them by 1e6 gives back exactly its bits (the engine rounds every
    /// contribution so).
    static func micros(_ value: Double) -> Int64? {
        let scaled = (value * 1e6).rounded()
        guard let micros = Int64(exactly: scaled), micros.magnitude < 1 << 53,
            (Double(micros) / 1e6).bitPattern == value.bitPattern
        else { return nil }
        return micros
    }

    mutating func features(_ features: [Double?]) {
        self.varint(UInt64(features.count))
        let tagStart = self.bytes.count
        self.bytes.append(contentsOf: repeatElement(0, count: (features.count + 3) / 4))
        for (index, value) in features.enumerated() {
            let tag: UInt8
            if let value {
                if let integer = Int64(exactly: value), integer.magnitude <= 1 << 53, Double(integer).bitPattern == value.bitPattern {
                    tag = FeatureTag.integer
                    self.signed(integer)
                } else if Double(Float(value)).bitPattern == value.bitPattern {
                    tag = FeatureTag.float32
                    withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { self.bytes.append(contentsOf: $0) }
                } else {
                    tag = FeatureTag.float64
                    self.fixed64(value.bitPattern)
                }
            } else {
                tag = FeatureTag.missing
            }
            self.bytes[tagStart + index / 4] |= tag << (2 * (index % 4))
        }
    }

    mutating func write(_ payment: TokenizedPayment) {
        var flags: UInt8 = 0
        if payment.channel != nil { flags |= PaymentFlags.channel }
        if payment.confirmationOfPayee != nil { flags |= PaymentFlags.confirmationOfPayee }
        if payment.payeeFirstSeenAt != nil { flags |= PaymentFlags.payeeFirstSeenAt }
        if payment.device != nil { flags |= PaymentFlags.device }
        if payment.ip != nil { flags |= PaymentFlags.ip }
        if payment.sealedReference != nil { flags |= PaymentFlags.sealedReference }
        let uetr = payment.uetr.map { ($0, ScoreID.pack($0)) }
        if let uetr { flags |= uetr.1 == nil ? PaymentFlags.uetrText : PaymentFlags.uetrPacked }
        self.byte(flags)
        self.enumeration(payment.perspective)
        self.enumeration(payment.type)
        self.string(payment.scheme)
        if let channel = payment.channel { self.string(channel) }
        if let confirmation = payment.confirmationOfPayee { self.enumeration(confirmation) }
        self.signed(payment.amount.minorUnits)
        var code = payment.amount.currency.code
        code.withUTF8 { self.bytes.append(contentsOf: $0) }
        self.instant(payment.createdAt)
        self.write(payment.debtor)
        self.write(payment.creditor)
        if let firstSeen = payment.payeeFirstSeenAt { self.instant(firstSeen) }
        if let device = payment.device { self.token(device) }
        if let ip = payment.ip { self.token(ip) }
        if let reference = payment.sealedReference { self.sealed(reference) }
        if let (text, packed) = uetr {
            if let packed { self.uuid(packed) } else { self.string(text) }
        }
    }

    mutating func write(_ party: TokenizedParty) {
        var flags: UInt8 = 0
        if party.name != nil { flags |= PartyFlags.name }
        if party.sealedName != nil { flags |= PartyFlags.sealedName }
        if party.agent != nil { flags |= PartyFlags.agent }
        if party.institution != nil { flags |= PartyFlags.institution }
        self.byte(flags)
        self.token(party.account)
        self.sealed(party.sealedAccount)
        if let name = party.name { self.token(name) }
        if let sealedName = party.sealedName { self.sealed(sealedName) }
        if let agent = party.agent { self.string(agent) }
        if let institution = party.institution {
            self.enumeration(institution.type)
            self.string(institution.value)
        }
    }
}

// MARK: - Reading

/// Reads a binary record front to back. Every read checks that the record holds the bytes it needs, and names the
/// field (in the JSON form's path) when it does not.
struct RecordReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var remaining: Int { self.bytes.count - self.offset }

    func truncated(_ field: StaticString) -> EventDecodingError {
        EventDecodingError(code: .truncated, message: "the record ends inside '\(field)' (at byte \(self.offset))")
    }

    func invalid(_ field: StaticString, _ problem: String) -> EventDecodingError {
        EventDecodingError(code: .invalidValue, message: "'\(field)' \(problem)")
    }

    func expectEnd() throws(EventDecodingError) {
        guard self.remaining == 0 else {
            throw EventDecodingError(
                code: .invalidValue, message: "the record has \(self.remaining) bytes after its last field"
            )
        }
    }

    mutating func byte(_ field: StaticString) throws(EventDecodingError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw self.truncated(field) }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    /// The bytes of the next `count`, which the caller has not yet checked against the record's length.
    mutating func take(_ count: Int, _ field: StaticString) throws(EventDecodingError) -> UnsafeBufferPointer<UInt8> {
        guard count <= self.remaining else { throw self.truncated(field) }
        defer { self.offset += count }
        return UnsafeBufferPointer(rebasing: self.bytes[self.offset..<self.offset + count])
    }

    mutating func varint(_ field: StaticString) throws(EventDecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.byte(field)
            // The tenth byte may carry only the 64th bit.
            guard shift < 63 || byte <= 1 else { throw self.invalid(field, "is a varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                // One spelling per value: a last byte of zero after others would be a longer spelling of it.
                guard byte != 0 || shift == 0 else { throw self.invalid(field, "is a varint with a redundant zero byte") }
                return value
            }
            shift += 7
        }
    }

    mutating func signed(_ field: StaticString) throws(EventDecodingError) -> Int64 {
        let raw = try self.varint(field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func int(_ field: StaticString) throws(EventDecodingError) -> Int {
        let value = try self.signed(field)
        guard let int = Int(exactly: value) else { throw self.invalid(field, "is not in the range of Int") }
        return int
    }

    /// A length or count, which must fit in what is left of the record at `unit` bytes or more per element.
    mutating func count(_ field: StaticString, unit: Int = 1) throws(EventDecodingError) -> Int {
        let count = try self.varint(field)
        guard count <= UInt64(self.remaining / unit) else { throw self.truncated(field) }
        return Int(count)
    }

    mutating func fixed64(_ field: StaticString) throws(EventDecodingError) -> UInt64 {
        let raw = try self.take(8, field)
        return UInt64(littleEndian: UnsafeRawBufferPointer(raw).loadUnaligned(as: UInt64.self))
    }

    mutating func string(_ field: StaticString) throws(EventDecodingError) -> String {
        let utf8 = try self.take(try self.count(field), field)
        guard let text = String(validating: utf8, as: UTF8.self) else { throw self.invalid(field, "is not UTF-8") }
        return text
    }

    mutating func token(_ field: StaticString) throws(EventDecodingError) -> Token {
        Token(bytes: UnsafeRawBufferPointer(try self.take(32, field)))
    }

    mutating func sealed(_ field: StaticString) throws(EventDecodingError) -> SealedValue {
        guard let keyVersion = UInt32(exactly: try self.varint(field)) else {
            throw self.invalid(field, "has a key version above UInt32")
        }
        return SealedValue(keyVersion: keyVersion, bytes: Array(try self.take(try self.count(field), field)))
    }

    mutating func instant(_ field: StaticString) throws(EventDecodingError) -> Instant {
        let millis = try self.signed(field)
        guard let offset = Int32(exactly: try self.signed(field)) else {
            throw self.invalid(field, "has a UTC offset outside Int32")
        }
        return Instant(epochMillis: millis, utcOffsetSeconds: offset)
    }

    mutating func uuid(_ field: StaticString) throws(EventDecodingError) -> String {
        let raw = UnsafeRawBufferPointer(try self.take(16, field))
        return ScoreID.format((
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        ))
    }

    mutating func enumeration<Value: CaseIterable>(_ field: StaticString, as type: Value.Type) throws(EventDecodingError) -> Value
    where Value.AllCases == [Value] {
        let index = Int(try self.byte(field))
        let cases = Value.allCases
        guard index < cases.count else { throw self.invalid(field, "is not one of the \(cases.count) values it can take") }
        return cases[index]
    }

    mutating func shadowEvent() throws(EventDecodingError) -> ShadowScoreEvent {
        let flags = try self.byte("flags")
        guard flags & ~ShadowFlags.known == 0 else { throw self.invalid("flags", "has bits this version does not know") }
        let tenant = try self.string("tenant")
        let paymentId = try self.string("paymentId")
        let scoreId = try flags & ShadowFlags.scoreIdText != 0 ? self.string("scoreId") : self.uuid("scoreId")
        let receivedAt = try self.instant("receivedAt")
        let modelVersion = try self.string("modelVersion")
        let score = try self.int("score")
        guard (0...999).contains(score) else { throw self.invalid("score", "is not between 0 and 999") }
        let probability = Double(bitPattern: try self.fixed64("probability"))
        guard probability >= 0, probability <= 1 else { throw self.invalid("probability", "is not between 0 and 1") }
        return ShadowScoreEvent(
            tenant: tenant, paymentId: paymentId, scoreId: scoreId, receivedAt: receivedAt, modelVersion: modelVersion, score: score,
            probability: probability
        )
    }

    mutating func scoredEvent() throws(EventDecodingError) -> ScoredPaymentEvent {
        let flags = try self.byte("flags")
        guard flags & ~EventFlags.known == 0 else { throw self.invalid("flags", "has bits this version does not know") }
        guard flags & EventFlags.degradedPresent != 0 || flags & EventFlags.degradedTrue == 0 else {
            throw self.invalid("flags", "says degraded without saying it is present")
        }
        let tenant = try self.string("tenant")
        let paymentId = try self.string("paymentId")
        let modelVersion = try self.string("modelVersion")
        let receivedAt = try self.instant("receivedAt")
        let requestPaymentId = try flags & EventFlags.requestPaymentIdElsewhere != 0 ? self.string("request.paymentId") : paymentId
        let request = try self.payment(paymentId: requestPaymentId)
        let responsePaymentId =
            try flags & EventFlags.responsePaymentIdElsewhere != 0 ? self.string("response.paymentId") : paymentId
        let responseModelVersion =
            try flags & EventFlags.responseModelVersionElsewhere != 0 ? self.string("response.modelVersion") : modelVersion
        let scoreId = try flags & EventFlags.scoreIdText != 0 ? self.string("response.scoreId") : self.uuid("response.scoreId")
        let score = try self.int("response.score")
        let decision = try self.enumeration("response.decision", as: Decision.self)
        let processingMicros = try self.int("response.processingMicros")
        let reasonCount = try self.count("response.reasons", unit: 2)
        var reasons: [Reason] = []
        reasons.reserveCapacity(reasonCount)
        for _ in 0..<reasonCount {
            let header = try self.varint("response.reasons")
            let code: String
            let name: String
            if header >> 1 == 0 {
                code = try self.string("response.reasons.code")
                name = try self.string("response.reasons.feature")
            } else {
                guard header >> 1 <= UInt64(Feature.count), let feature = Feature(rawValue: Int(header >> 1) - 1) else {
                    throw self.invalid("response.reasons.feature", "is not a feature this version knows")
                }
                code = feature.reasonCode
                name = feature.name
            }
            let contribution: Double
            if header & ContributionForm.micros != 0 {
                let micros = try self.signed("response.reasons.contribution")
                guard micros.magnitude < 1 << 53 else {
                    throw self.invalid("response.reasons.contribution", "is beyond the exact range of a Double")
                }
                contribution = Double(micros) / 1e6
            } else {
                contribution = Double(bitPattern: try self.fixed64("response.reasons.contribution"))
            }
            reasons.append(Reason(code: code, feature: name, contribution: contribution))
        }
        let ruleCount = try self.count("response.rules", unit: 2)
        var rules: [RuleFiring] = []
        rules.reserveCapacity(ruleCount)
        for _ in 0..<ruleCount {
            rules.append(RuleFiring(
                name: try self.string("response.rules.name"),
                outcome: try self.enumeration("response.rules.outcome", as: Decision.self)
            ))
        }
        let response = ScoreResponse(
            paymentId: responsePaymentId, scoreId: scoreId, score: score, decision: decision, reasons: reasons, rules: rules,
            duplicate: flags & EventFlags.duplicate != 0, modelVersion: responseModelVersion,
            processingMicros: processingMicros,
            degraded: flags & EventFlags.degradedPresent != 0 ? flags & EventFlags.degradedTrue != 0 : nil
        )
        var event = ScoredPaymentEvent(tenant: tenant, receivedAt: receivedAt, request: request, response: response, features: [])
        // The stored copies, not the ones the initializer derives, so reading never changes a record.
        event.paymentId = paymentId
        event.modelVersion = modelVersion
        event.features = try self.features()
        return event
    }

    mutating func features() throws(EventDecodingError) -> [Double?] {
        let count = try self.varint("features")
        // Each value takes two bits of tag at least.
        guard count <= UInt64(self.remaining) * 4 else { throw self.truncated("features") }
        let tags = try self.take((Int(count) + 3) / 4, "features")
        var features: [Double?] = []
        features.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            switch (tags[index / 4] >> (2 * (index % 4))) & 3 {
            case FeatureTag.missing:
                features.append(nil)
            case FeatureTag.integer:
                let integer = try self.signed("features")
                guard integer.magnitude <= 1 << 53 else { throw self.invalid("features", "holds an integer beyond a Double's exact range") }
                features.append(Double(integer))
            case FeatureTag.float32:
                let raw = UnsafeRawBufferPointer(try self.take(4, "features"))
                features.append(Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))))
            default:
                features.append(Double(bitPattern: try self.fixed64("features")))
            }
        }
        // Tag bits past the last value are zero, so a record has one spelling.
        if count % 4 != 0, tags[tags.count - 1] >> (2 * (count % 4)) != 0 {
            throw self.invalid("features", "has tags after its last value")
        }
        return features
    }

    mutating func payment(paymentId: String) throws(EventDecodingError) -> TokenizedPayment {
        let flags = try self.byte("request")
        guard flags & PaymentFlags.uetrPacked == 0 || flags & PaymentFlags.uetrText == 0 else {
            throw self.invalid("request.uetr", "is marked both packed and text")
        }
        let perspective = try self.enumeration("request.perspective", as: Perspective.self)
        let type = try self.enumeration("request.type", as: PaymentType.self)
        let scheme = try self.string("request.scheme")
        let channel = try flags & PaymentFlags.channel != 0 ? self.string("request.channel") : nil
        let confirmation = try flags & PaymentFlags.confirmationOfPayee != 0
            ? self.enumeration("request.confirmationOfPayee", as: ConfirmationOfPayee.self) : nil
        let minorUnits = try self.signed("request.amount.amount")
        guard minorUnits > 0 else { throw self.invalid("request.amount.amount", "is not a positive amount") }
        let code = try self.take(3, "request.amount.currency")
        guard let currency = Currency(code: String(decoding: code, as: UTF8.self)) else {
            throw self.invalid("request.amount.currency", "is not an active ISO 4217 code")
        }
        let createdAt = try self.instant("request.createdAt")
        let debtor = try self.party(debtor: true)
        let creditor = try self.party(debtor: false)
        let firstSeen = try flags & PaymentFlags.payeeFirstSeenAt != 0 ? self.instant("request.payeeFirstSeenAt") : nil
        let device = try flags & PaymentFlags.device != 0 ? self.token("request.device") : nil
        let ip = try flags & PaymentFlags.ip != 0 ? self.token("request.ip") : nil
        let reference = try flags & PaymentFlags.sealedReference != 0 ? self.sealed("request.sealedReference") : nil
        let uetr: String? =
            if flags & PaymentFlags.uetrPacked != 0 {
                try self.uuid("request.uetr")
            } else if flags & PaymentFlags.uetrText != 0 {
                try self.string("request.uetr")
            } else {
                nil
            }
        return TokenizedPayment(
            paymentId: paymentId, perspective: perspective, type: type, scheme: scheme, channel: channel,
            amount: Money(minorUnits: minorUnits, currency: currency), createdAt: createdAt, debtor: debtor, creditor: creditor,
            payeeFirstSeenAt: firstSeen, confirmationOfPayee: confirmation, device: device, ip: ip, sealedReference: reference,
            uetr: uetr
        )
    }

    mutating func party(debtor: Bool) throws(EventDecodingError) -> TokenizedParty {
        // Static names for messages, one set per side.
        let flags = try self.byte(debtor ? "request.debtor" : "request.creditor")
        guard flags & ~PartyFlags.known == 0 else {
            throw self.invalid(debtor ? "request.debtor" : "request.creditor", "has bits this version does not know")
        }
        return TokenizedParty(
            account: try self.token(debtor ? "request.debtor.account" : "request.creditor.account"),
            sealedAccount: try self.sealed(debtor ? "request.debtor.sealedAccount" : "request.creditor.sealedAccount"),
            name: try flags & PartyFlags.name != 0 ? self.token(debtor ? "request.debtor.name" : "request.creditor.name") : nil,
            sealedName: try flags & PartyFlags.sealedName != 0
                ? self.sealed(debtor ? "request.debtor.sealedName" : "request.creditor.sealedName") : nil,
            agent: try flags & PartyFlags.agent != 0 ? self.string(debtor ? "request.debtor.agent" : "request.creditor.agent") : nil,
            institution: try flags & PartyFlags.institution != 0
                ? InstitutionCode(
                    type: self.enumeration(debtor ? "request.debtor.institution" : "request.creditor.institution", as: InstitutionCodeType.self),
                    value: self.string(debtor ? "request.debtor.institution" : "request.creditor.institution")
                ) : nil
        )
    }
}
