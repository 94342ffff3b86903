import Foundation
import Testing
import VigilJSON

/// A small seeded generator, so a failing case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct JSONWriterTests {
    /// What Foundation writes for `value` with the options events and responses have always used.
    static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func writesNestedStructuresWithCommasInPlace() {
        let text = Self.written { w in
            w.beginObject()
            w.key("a")
            w.beginArray()
            w.int(1)
            w.beginObject()
            w.endObject()
            w.beginArray()
            w.endArray()
            w.null()
            w.bool(true)
            w.bool(false)
            w.endArray()
            w.key("b")
            w.string("x")
            w.key("c")
            w.beginObject()
            w.key("d")
            w.double(0.5)
            w.endObject()
            w.endObject()
        }
        #expect(text == #"{"a":[1,{},[],null,true,false],"b":"x","c":{"d":0.5}}"#)
    }

    @Test func escapesAsFoundationDoes() throws {
        var every = ""
        for byte in 0..<0x20 { every.unicodeScalars.append(Unicode.Scalar(UInt8(byte))) }
        every += "\"\\/\u{7F}\u{80}\u{2028}\u{2029}\u{FEFF}é€😀 plain"
        for text in [every, "", "\"", "\\", "a\"b\\c", "tab\there", "\u{0}", "😀\u{1F}😀"] {
            #expect(Self.written { $0.string(text) } == (try Self.foundation([text])).dropFirst().dropLast())
        }
    }

    @Test func escapesKeysToo() throws {
        let keys = ["plain", "quo\"te", "back\\slash", "new\nline", "é", ""]
        let text = Self.written { w in
            w.beginObject()
            for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                w.key(key)
                w.int(1)
            }
            w.endObject()
        }
        #expect(text == (try Self.foundation(Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }))))
    }

    @Test func randomStringsMatchFoundation() throws {
        var random = SplitMix64(state: 7)
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0...0x1F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        var strings: [String] = []
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...24, using: &random) {
                let range = ranges.randomElement(using: &random)!
                text.unicodeScalars.append(Unicode.Scalar(UInt32.random(in: range, using: &random))!)
            }
            strings.append(text)
        }
        let text = Self.written { w in
            w.beginArray()
            for string in strings { w.string(string) }
            w.endArray()
        }
        #expect(text == (try Self.foundation(strings)))
    }

    @Test func doublesMatchFoundation() throws {
        var random = SplitMix64(state: 11)
        var values: [Double] = [
            0, -0.0, 1, -1, 0.5, 3, 100, 1e15, 1e16, 1e21, 1e-5, 1e-7, 0.0001, 0.1 + 0.2, 123_456_789_012_345_680,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            9_007_199_254_740_993, 2.5e-308, 12_345_678.9, 0.000001, 4.35, 1e300, -1e-300,
        ]
        for _ in 0..<2000 {
            let value = Double(bitPattern: random.next())
            if value.isFinite { values.append(value) }
            values.append(Double.random(in: -1000...1000, using: &random))
            values.append((Double.random(in: -1e6...1e6, using: &random) * 1e6).rounded() / 1e6)
            values.append(Double(Int.random(in: -1_000_000...1_000_000, using: &random)))
        }
        let text = Self.written { w in
            w.beginArray()
            for value in values { w.double(value) }
            w.endArray()
        }
        #expect(text == (try Self.foundation(values)))
    }

    @Test func doublesReadBackExactly() throws {
        var random = SplitMix64(state: 13)
        for _ in 0..<2000 {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            let text = Self.written { $0.double(value) }
            #expect(Double(text)?.bitPattern == value.bitPattern, "\(text)")
        }
    }

    @Test func nonFiniteDoublesAreNull() {
        let text = Self.written { w in
            w.beginArray()
            w.double(.nan)
            w.double(.infinity)
            w.double(-.infinity)
            w.double(2)
            w.endArray()
        }
        #expect(text == "[null,null,null,2]")
    }

    @Test func integersMatchFoundation() throws {
        let values: [Int64] = [0, 1, -1, 9, 10, -10, 1_795_000_000_000, .max, .min]
        let text = Self.written { w in
            w.beginArray()
            for value in values { w.int(value) }
            w.endArray()
        }
        #expect(text == (try Self.foundation(values)))
        #expect(Self.written { $0.int(UInt64.max) } == "18446744073709551615")
        #expect(Self.written { $0.int(Int32.min) } == "-2147483648")
        #expect(Self.written { $0.int(UInt8(7)) } == "7")
    }

    @Test func writesStringsFromBytes() {
        let text = Self.written { w in
            w.beginArray()
            Array("ab\"c".utf8).withUnsafeBufferPointer { w.string(utf8: $0) }
            w.endArray()
        }
        #expect(text == #"["ab\"c"]"#)
    }

    @Test func whatItWritesParsesBack() throws {
        let text = Self.written { w in
            w.beginObject()
            w.key("s")
            w.string("a\u{0}\"\\\n😀")
            w.key("n")
            w.beginArray()
            w.double(-0.25)
            w.int(-7)
            w.endArray()
            w.endObject()
        }
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value == .object([JSONValue.Member(key: "s", value: .string("a\u{0}\"\\\n😀")), JSONValue.Member(key: "n", value: .array([.number("-0.25"), .number("-7")]))]))
    }
}
