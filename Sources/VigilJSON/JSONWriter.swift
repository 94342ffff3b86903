/// Writes compact JSON straight into a byte array, in the exact form Foundation's `JSONEncoder` uses with
/// `.withoutEscapingSlashes`: no whitespace, `"` `\` and control characters escaped (`\b` `\t` `\n` `\f`
/// `\r`, otherwise `\u00xx`), everything else as raw UTF-8, doubles in their shortest round-trip form with
/// an integral value's `.0` left off.
///
/// The caller writes a well-formed sequence: inside an object, ``key(_:)`` before every value; every
/// ``beginObject()`` and ``beginArray()`` closed. The writer places the commas. Members are written in the
/// order given, so a caller that wants sorted keys writes them sorted.
///
/// - Performance: appends to one growing array and allocates nothing else, except when writing a `Double`
///   whose shortest form is longer than 15 characters.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]
    /// Whether the next key or array element follows a sibling and so needs a comma first.
    private var needsComma = false

    /// - Parameter capacity: bytes to reserve up front, to avoid regrowing for a document of known size.
    public init(capacity: Int = 0) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
    }

    public mutating func endObject() {
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    public mutating func beginArray() {
        self.separate()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
    }

    public mutating func endArray() {
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// Writes an object member's key and the colon; the value comes next.
    public mutating func key(_ key: StaticString) {
        self.separate()
        key.withUTF8Buffer { self.appendQuoted($0) }
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// Writes an object member's key and the colon; the value comes next.
    public mutating func key(_ key: String) {
        self.separate()
        self.appendQuoted(key)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    public mutating func string(_ value: String) {
        self.separate()
        self.appendQuoted(value)
        self.needsComma = true
    }

    /// Writes a string whose UTF-8 bytes are given, for text built without a `String` (hex digits, decimals).
    /// - Precondition: `utf8` is valid UTF-8.
    public mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        self.separate()
        self.appendQuoted(utf8)
        self.needsComma = true
    }

    public mutating func int(_ value: some BinaryInteger) {
        self.separate()
        if value < 0 {
            self.bytes.append(UInt8(ascii: "-"))
            self.appendDigits(UInt64(value.magnitude))
        } else {
            self.appendDigits(UInt64(value))
        }
        self.needsComma = true
    }

    /// Writes `value` as `JSONEncoder` does: Swift's shortest round-trip form (`0.1`, `1e-07`, `1e+16`) with a
    /// trailing `.0` removed, so `3.0` is `3` and `-0.0` is `-0`. JSON has no NaN or infinity: they are
    /// written as `null`, the value that reads back as missing.
    public mutating func double(_ value: Double) {
        guard value.isFinite else {
            self.null()
            return
        }
        self.separate()
        var text = value.description
        text.withUTF8 { utf8 in
            let dropsPointZero =
                utf8.count >= 2 && utf8[utf8.count - 2] == UInt8(ascii: ".") && utf8[utf8.count - 1] == UInt8(ascii: "0")
            self.bytes.append(contentsOf: dropsPointZero ? UnsafeBufferPointer(rebasing: utf8.dropLast(2)) : utf8)
        }
        self.needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        self.separate()
        self.appendLiteral(value ? "true" : "false")
        self.needsComma = true
    }

    public mutating func null() {
        self.separate()
        self.appendLiteral("null")
        self.needsComma = true
    }

    private mutating func separate() {
        if self.needsComma {
            self.bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    private mutating func appendQuoted(_ text: String) {
        var text = text
        text.withUTF8 { self.appendQuoted($0) }
    }

    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        self.bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                continue
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            runStart = index + 1
            self.bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.bytes.append(byte)
            case 0x08: self.bytes.append(UInt8(ascii: "b"))
            case 0x09: self.bytes.append(UInt8(ascii: "t"))
            case 0x0A: self.bytes.append(UInt8(ascii: "n"))
            case 0x0C: self.bytes.append(UInt8(ascii: "f"))
            case 0x0D: self.bytes.append(UInt8(ascii: "r"))
            default:
                self.appendLiteral("u00")
                self.bytes.append(Self.hexDigit(byte >> 4))
                self.bytes.append(Self.hexDigit(byte & 0xF))
            }
        }
        self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the decimal digits of `value`, most significant first, without an intermediate string.
    private mutating func appendDigits(_ value: UInt64) {
        let start = self.bytes.count
        var rest = value
        repeat {
            self.bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        self.bytes[start...].reverse()
    }

    /// A lower-case hex digit, as `JSONEncoder` writes in `\u00xx` escapes.
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
