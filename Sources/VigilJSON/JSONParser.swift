/// A strict RFC 8259 JSON parser over UTF-8 bytes, written against the standard library alone.
///
/// Beyond the RFC it refuses an object that names a key twice: parsers disagree on which occurrence wins,
/// and a request read one way here and another way elsewhere is a parser-differential attack waiting to
/// happen.
public struct JSONParser {
    /// Extensions to RFC 8259 that a caller can turn on.
    public struct Options: OptionSet, Sendable {
        public var rawValue: Int

        public init(rawValue: Int) {
            self.rawValue = rawValue
        }

        /// Accepts the bare `NaN`, `Infinity` and `-Infinity` tokens that XGBoost writes for non-finite
        /// floats, as numbers, so that a model carrying them fails validation with a message about the
        /// field rather than a syntax error.
        public static let nonFiniteNumbers = Options(rawValue: 1 << 0)
    }

    /// Deeper documents are rejected rather than risk exhausting the stack; model files nest about 8 deep,
    /// payment requests 3.
    public static let maximumDepth = 64

    /// Above this many members an object checks its keys for duplicates with a set rather than a scan.
    private static let linearKeyCheckLimit = 16

    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: Options
    private var position = 0
    /// The members of every object being parsed, innermost last; each object's are copied out into an
    /// exactly sized array when it closes, so no array regrows member by member.
    private var memberStack: [JSONValue.Member] = []
    /// The same for array elements.
    private var elementStack: [JSONValue] = []

    private init(bytes: UnsafeBufferPointer<UInt8>, options: Options) {
        self.bytes = bytes
        self.options = options
    }

    /// Parses one JSON document that fills `bytes` apart from surrounding whitespace.
    /// - Throws: ``JSONError`` with the offset of the offending byte.
    public static func parse(_ bytes: [UInt8], options: Options = []) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            try Self.parse(buffer, options: options)
        }
    }

    /// Parses one JSON document that fills `buffer` apart from surrounding whitespace.
    /// - Throws: ``JSONError`` with the offset of the offending byte.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, options: Options = []) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: buffer, options: options)
        return try parser.parseDocument()
    }

    private mutating func parseDocument() throws(JSONError) -> JSONValue {
        let value = try self.parseValue(depth: 0)
        self.skipWhitespace()
        guard self.position == self.bytes.count else {
            throw self.error(
                .trailingContent, "unexpected \(self.describeCurrentByte()) after the end of the top-level value"
            )
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        self.skipWhitespace()
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEndOfInput, "unexpected end of input, expected a value")
        }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"):
            return try self.parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try self.parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "N") where self.options.contains(.nonFiniteNumbers):
            try self.expectLiteral("NaN")
            return .number("NaN")
        case UInt8(ascii: "I") where self.options.contains(.nonFiniteNumbers):
            try self.expectLiteral("Infinity")
            return .number("Infinity")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try self.parseNumber())
        default:
            throw self.unexpected("expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw self.error(.nestingTooDeep, "nesting deeper than \(Self.maximumDepth) levels")
        }
        self.position += 1
        let base = self.memberStack.count
        defer { self.memberStack.removeSubrange(base...) }
        var keys: Set<String> = []
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "}")) {
            return .object([])
        }
        while true {
            self.skipWhitespace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.unexpected("expected a string key in an object")
            }
            let keyStart = self.position
            let key = try self.parseString()
            let count = self.memberStack.count - base
            if count < Self.linearKeyCheckLimit {
                if self.memberStack[base...].contains(where: { $0.key == key }) {
                    throw self.duplicateKey(key, at: keyStart)
                }
            } else {
                if keys.isEmpty {
                    keys = Set(self.memberStack[base...].map(\.key))
                }
                guard keys.insert(key).inserted else {
                    throw self.duplicateKey(key, at: keyStart)
                }
            }
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: ":")) else {
                throw self.unexpected("expected ':' after an object key")
            }
            let value = try self.parseValue(depth: depth)
            self.memberStack.append(JSONValue.Member(key: key, value: value))
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) {
                continue
            }
            if self.consume(UInt8(ascii: "}")) {
                return .object(Array(self.memberStack[base...]))
            }
            throw self.unexpected("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw self.error(.nestingTooDeep, "nesting deeper than \(Self.maximumDepth) levels")
        }
        self.position += 1
        let base = self.elementStack.count
        defer { self.elementStack.removeSubrange(base...) }
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "]")) {
            return .array([])
        }
        while true {
            let element = try self.parseValue(depth: depth)
            self.elementStack.append(element)
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) {
                continue
            }
            if self.consume(UInt8(ascii: "]")) {
                return .array(Array(self.elementStack[base...]))
            }
            throw self.unexpected("expected ',' or ']' in an array")
        }
    }

    /// Parses a number with the RFC 8259 grammar and returns its text.
    private mutating func parseNumber() throws(JSONError) -> String {
        let start = self.position
        _ = self.consume(UInt8(ascii: "-"))
        if self.options.contains(.nonFiniteNumbers), self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "I")
        {
            try self.expectLiteral("Infinity")
            return "-Infinity"
        }
        if self.consume(UInt8(ascii: "0")) {
            // A leading zero stands alone: "01" is not JSON.
        } else if self.consumeDigits() == 0 {
            throw self.unexpected("expected a digit")
        }
        if self.consume(UInt8(ascii: ".")) {
            guard self.consumeDigits() > 0 else {
                throw self.unexpected("expected a digit after '.'")
            }
        }
        if self.consume(UInt8(ascii: "e")) || self.consume(UInt8(ascii: "E")) {
            if !self.consume(UInt8(ascii: "+")) {
                _ = self.consume(UInt8(ascii: "-"))
            }
            guard self.consumeDigits() > 0 else {
                throw self.unexpected("expected a digit in an exponent")
            }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]), as: UTF8.self)
    }

    private mutating func consumeDigits() -> Int {
        let start = self.position
        while self.position < self.bytes.count,
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.position])
        {
            self.position += 1
        }
        return self.position - start
    }

    private mutating func parseString() throws(JSONError) -> String {
        let openingQuote = self.position
        self.position += 1
        let start = self.position
        // Keys and most values contain no escapes, so scan for the closing quote first and copy only if needed.
        var allBytes: UInt8 = 0
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                let utf8 = UnsafeBufferPointer(rebasing: self.bytes[start..<self.position])
                // ASCII is valid UTF-8 as it stands; only other text needs the validating initializer.
                let text = allBytes < 0x80 ? String(decoding: utf8, as: UTF8.self) : try self.makeString(utf8, start: start)
                self.position += 1
                return text
            }
            allBytes |= byte
            if byte == UInt8(ascii: "\\") {
                break
            }
            guard byte >= 0x20 else {
                throw self.error(.controlCharacterInString, "control character 0x\(String(byte, radix: 16)) inside a string")
            }
            self.position += 1
        }
        var utf8 = Array(self.bytes[start..<self.position])
        while true {
            guard self.position < self.bytes.count else {
                throw self.error(
                    .unexpectedEndOfInput, "unexpected end of input inside the string that starts at byte \(openingQuote)"
                )
            }
            let byte = self.bytes[self.position]
            switch byte {
            case UInt8(ascii: "\""):
                let text = try utf8.withUnsafeBufferPointer { (buffer) throws(JSONError) -> String in
                    try self.makeString(buffer, start: start)
                }
                self.position += 1
                return text
            case UInt8(ascii: "\\"):
                try self.parseEscape(into: &utf8)
            case 0..<0x20:
                throw self.error(.controlCharacterInString, "control character 0x\(String(byte, radix: 16)) inside a string")
            default:
                utf8.append(byte)
                self.position += 1
            }
        }
    }

    private func makeString(_ utf8: UnsafeBufferPointer<UInt8>, start: Int) throws(JSONError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONError(
                code: .invalidUTF8, message: "the string starting here is not valid UTF-8", byteOffset: start
            )
        }
        return text
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONError) {
        self.position += 1
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEndOfInput, "unexpected end of input inside an escape sequence")
        }
        let escaped = self.bytes[self.position]
        self.position += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            utf8.append(escaped)
        case UInt8(ascii: "b"):
            utf8.append(0x08)
        case UInt8(ascii: "f"):
            utf8.append(0x0C)
        case UInt8(ascii: "n"):
            utf8.append(0x0A)
        case UInt8(ascii: "r"):
            utf8.append(0x0D)
        case UInt8(ascii: "t"):
            utf8.append(0x09)
        case UInt8(ascii: "u"):
            var value = try self.parseHexQuad()
            if (0xD800..<0xDC00).contains(value) {
                guard self.consume(UInt8(ascii: "\\")), self.consume(UInt8(ascii: "u")) else {
                    throw self.error(.invalidEscape, "a high surrogate escape is not followed by a low surrogate escape")
                }
                let low = try self.parseHexQuad()
                guard (0xDC00..<0xE000).contains(low) else {
                    throw self.error(.invalidEscape, "a high surrogate escape is not followed by a low surrogate escape")
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw self.error(.invalidEscape, "\\u escape for a lone low surrogate")
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            self.position -= 1
            throw self.error(.invalidEscape, "invalid escape sequence '\\\(Character(Unicode.Scalar(escaped)))'")
        }
    }

    private mutating func parseHexQuad() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard self.position < self.bytes.count else {
                throw self.error(.unexpectedEndOfInput, "unexpected end of input inside a \\u escape")
            }
            let byte = self.bytes[self.position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error(.invalidEscape, "unexpected \(self.describeCurrentByte()), expected a hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.position += 1
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard self.position < self.bytes.count, self.bytes[self.position] == expected else {
                throw self.unexpected("expected '\(literal)'")
            }
            self.position += 1
        }
    }

    private mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                self.position += 1
            default:
                return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard self.position < self.bytes.count, self.bytes[self.position] == byte else {
            return false
        }
        self.position += 1
        return true
    }

    private func describeCurrentByte() -> String {
        guard self.position < self.bytes.count else {
            return "end of input"
        }
        let byte = self.bytes[self.position]
        if (0x21...0x7E).contains(byte) {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(String(byte, radix: 16))"
    }

    /// The byte at the current position is not what the grammar allows, or there is none.
    private func unexpected(_ expectation: String) -> JSONError {
        let code: JSONError.Code = self.position < self.bytes.count ? .unexpectedCharacter : .unexpectedEndOfInput
        return self.error(code, "unexpected \(self.describeCurrentByte()), \(expectation)")
    }

    private func duplicateKey(_ key: String, at offset: Int) -> JSONError {
        JSONError(code: .duplicateKey, message: "the key \"\(key)\" appears twice in one object", byteOffset: offset)
    }

    private func error(_ code: JSONError.Code, _ problem: String) -> JSONError {
        JSONError(code: code, message: problem, byteOffset: self.position)
    }
}
