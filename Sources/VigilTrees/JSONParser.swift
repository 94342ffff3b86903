/// A strict JSON parser over UTF-8 bytes, written against the standard library alone.
///
/// It accepts RFC 8259 JSON plus the bare `NaN`, `Infinity` and `-Infinity` tokens that XGBoost writes
/// for non-finite floats, so that a model carrying them fails validation with a message about the field
/// rather than a syntax error.
struct JSONParser {
    /// Deeper documents are rejected rather than risk exhausting the stack; model files nest about 8 deep.
    static let maximumDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses one JSON document that fills `bytes` apart from surrounding whitespace.
    /// - Throws: ``ModelError/Code/malformedJSON`` with the offset of the offending byte.
    static func parse(_ bytes: [UInt8]) throws(ModelError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(ModelError) -> JSONValue in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseDocument()
        }
    }

    private mutating func parseDocument() throws(ModelError) -> JSONValue {
        let value = try self.parseValue(depth: 0)
        self.skipWhitespace()
        guard self.position == self.bytes.count else {
            throw self.error("unexpected \(self.describeCurrentByte()) after the end of the top-level value")
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(ModelError) -> JSONValue {
        self.skipWhitespace()
        guard self.position < self.bytes.count else {
            throw self.error("unexpected end of input, expected a value")
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
        case UInt8(ascii: "N"):
            try self.expectLiteral("NaN")
            return .number("NaN")
        case UInt8(ascii: "I"):
            try self.expectLiteral("Infinity")
            return .number("Infinity")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try self.parseNumber())
        default:
            throw self.error("unexpected \(self.describeCurrentByte()), expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(ModelError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw self.error("nesting deeper than \(Self.maximumDepth) levels")
        }
        self.position += 1
        var members: [(key: String, value: JSONValue)] = []
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "}")) {
            return .object(members)
        }
        while true {
            self.skipWhitespace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.error("unexpected \(self.describeCurrentByte()), expected a string key in an object")
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: ":")) else {
                throw self.error("unexpected \(self.describeCurrentByte()), expected ':' after an object key")
            }
            let value = try self.parseValue(depth: depth)
            members.append((key: key, value: value))
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) {
                continue
            }
            if self.consume(UInt8(ascii: "}")) {
                return .object(members)
            }
            throw self.error("unexpected \(self.describeCurrentByte()), expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(ModelError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw self.error("nesting deeper than \(Self.maximumDepth) levels")
        }
        self.position += 1
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "]")) {
            return .array(elements)
        }
        while true {
            elements.append(try self.parseValue(depth: depth))
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) {
                continue
            }
            if self.consume(UInt8(ascii: "]")) {
                return .array(elements)
            }
            throw self.error("unexpected \(self.describeCurrentByte()), expected ',' or ']' in an array")
        }
    }

    /// Parses a number with the RFC 8259 grammar and returns its text.
    private mutating func parseNumber() throws(ModelError) -> String {
        let start = self.position
        _ = self.consume(UInt8(ascii: "-"))
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "I") {
            try self.expectLiteral("Infinity")
            return "-Infinity"
        }
        if self.consume(UInt8(ascii: "0")) {
            // A leading zero stands alone: "01" is not JSON.
        } else if self.consumeDigits() == 0 {
            throw self.error("unexpected \(self.describeCurrentByte()), expected a digit")
        }
        if self.consume(UInt8(ascii: ".")) {
            guard self.consumeDigits() > 0 else {
                throw self.error("unexpected \(self.describeCurrentByte()), expected a digit after '.'")
            }
        }
        if self.consume(UInt8(ascii: "e")) || self.consume(UInt8(ascii: "E")) {
            if !self.consume(UInt8(ascii: "+")) {
                _ = self.consume(UInt8(ascii: "-"))
            }
            guard self.consumeDigits() > 0 else {
                throw self.error("unexpected \(self.describeCurrentByte()), expected a digit in an exponent")
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

    private mutating func parseString() throws(ModelError) -> String {
        let openingQuote = self.position
        self.position += 1
        let start = self.position
        // Keys and names rarely contain escapes, so scan for the closing quote first and copy only if needed.
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                let text = try self.makeString(UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]), start: start)
                self.position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") {
                break
            }
            guard byte >= 0x20 else {
                throw self.error("control character 0x\(String(byte, radix: 16)) inside a string")
            }
            self.position += 1
        }
        var utf8 = Array(self.bytes[start..<self.position])
        while true {
            guard self.position < self.bytes.count else {
                throw self.error("unexpected end of input inside the string that starts at byte \(openingQuote)")
            }
            let byte = self.bytes[self.position]
            switch byte {
            case UInt8(ascii: "\""):
                let text = try utf8.withUnsafeBufferPointer { (buffer) throws(ModelError) -> String in
                    try self.makeString(buffer, start: start)
                }
                self.position += 1
                return text
            case UInt8(ascii: "\\"):
                try self.parseEscape(into: &utf8)
            case 0..<0x20:
                throw self.error("control character 0x\(String(byte, radix: 16)) inside a string")
            default:
                utf8.append(byte)
                self.position += 1
            }
        }
    }

    private func makeString(_ utf8: UnsafeBufferPointer<UInt8>, start: Int) throws(ModelError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw ModelError(
                code: .malformedJSON,
                message: "invalid JSON at byte \(start): the string starting here is not valid UTF-8",
                byteOffset: start
            )
        }
        return text
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(ModelError) {
        self.position += 1
        guard self.position < self.bytes.count else {
            throw self.error("unexpected end of input inside an escape sequence")
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
                    throw self.error("a high surrogate escape is not followed by a low surrogate escape")
                }
                let low = try self.parseHexQuad()
                guard (0xDC00..<0xE000).contains(low) else {
                    throw self.error("a high surrogate escape is not followed by a low surrogate escape")
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw self.error("\\u escape for a lone low surrogate")
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            self.position -= 1
            throw self.error("invalid escape sequence '\\\(Character(Unicode.Scalar(escaped)))'")
        }
    }

    private mutating func parseHexQuad() throws(ModelError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard self.position < self.bytes.count else {
                throw self.error("unexpected end of input inside a \\u escape")
            }
            let byte = self.bytes[self.position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("unexpected \(self.describeCurrentByte()), expected a hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.position += 1
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ModelError) {
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard self.position < self.bytes.count, self.bytes[self.position] == expected else {
                throw self.error("unexpected \(self.describeCurrentByte()), expected '\(literal)'")
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

    private func error(_ problem: String) -> ModelError {
        ModelError(
            code: .malformedJSON,
            message: "invalid JSON at byte \(self.position): \(problem)",
            byteOffset: self.position
        )
    }
}
