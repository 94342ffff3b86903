import Testing
import VigilJSON

@Suite struct JSONParserTests {
    static func parse(_ json: String, options: JSONParser.Options = []) throws(JSONError) -> JSONValue {
        try JSONParser.parse(Array(json.utf8), options: options)
    }

    static func error(_ json: String, options: JSONParser.Options = []) -> JSONError? {
        do {
            let value = try Self.parse(json, options: options)
            Issue.record("parsed \(Self.render(value))")
            return nil
        } catch {
            return error
        }
    }

    /// A compact rendering to compare parsed documents against.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): "#\(text)"
        case .string(let text): "'\(text)'"
        case .array(let elements): "[" + elements.map(render).joined(separator: ",") + "]"
        case .object(let members): "{" + members.map { "\($0.key):\(render($0.value))" }.joined(separator: ",") + "}"
        }
    }

    @Test(arguments: [
        (#" {"a" : [1, -2.5E-3, 0, 1e+2, -0.0] , "b":{}, "c":[]} "#, "{a:[#1,#-2.5E-3,#0,#1e+2,#-0.0],b:{},c:[]}"),
        (#"[true,false,null,"x"]"#, "[true,false,null,'x']"),
        ("\t\r\n\"plain\"\n", "'plain'"),
        (#"["\"\\\/\b\f\n\r\t"]"#, "['\"\\/\u{08}\u{0C}\n\r\t']"),
        (#"["\u00e9\u20AC\ud83d\ude00"]"#, "['é€😀']"),
        ("[\"é€😀\"]", "['é€😀']"),
        (#"{"a":1,"A":2,"a ":3}"#, "{a:#1,A:#2,a :#3}"),
    ])
    func parsesValidJSON(json: String, rendered: String) throws {
        #expect(Self.render(try Self.parse(json)) == rendered)
    }

    @Test(arguments: [
        ("", 0), ("  ", 2), ("[1 2]", 3), ("[01]", 2), ("[1.]", 3), ("[1e]", 3), ("[.5]", 1), ("[+1]", 1),
        ("{1:2}", 1), (#"{"a":}"#, 5), ("[nul]", 4), (#"["\ud83d"]"#, 8), (#"["\ude00"]"#, 8),
        (#"["\u12G4"]"#, 6), ("[\"abc", 5), ("[1]]", 3), ("[Inf]", 1), ("[-NaN]", 2), ("[NaN]", 1),
        ("[Infinity]", 1), ("[-Infinity]", 2),
    ])
    func rejectsInvalidJSON(json: String, offset: Int) throws {
        let error = try #require(Self.error(json))
        #expect(error.byteOffset == offset, "\(error.message)")
        #expect(error.description.hasPrefix("invalid JSON at byte \(offset): "))
    }

    @Test(arguments: [
        ("", JSONError.Code.unexpectedEndOfInput), ("[1,", .unexpectedEndOfInput), ("[1;", .unexpectedCharacter),
        ("{\"a\":1} {", .trailingContent), ("[\"\u{01}\"]", .controlCharacterInString), (#"["\x"]"#, .invalidEscape),
        (#"["\ude00"]"#, .invalidEscape), ("[\"\\u12", .unexpectedEndOfInput),
        (String(repeating: "[", count: JSONParser.maximumDepth + 1), .nestingTooDeep),
        (#"{"amount":"1.00","amount":"2.00"}"#, .duplicateKey),
    ])
    func classifiesErrors(json: String, code: JSONError.Code) throws {
        let error = try #require(Self.error(json))
        #expect(error.code == code, "\(error)")
    }

    @Test func theNonFiniteExtensionIsAnOption() throws {
        let json = "[NaN, Infinity, -Infinity, 1]"
        #expect(Self.render(try Self.parse(json, options: .nonFiniteNumbers)) == "[#NaN,#Infinity,#-Infinity,#1]")
        #expect(Self.error(json)?.byteOffset == 1)
        #expect(Self.error("[Inf]", options: .nonFiniteNumbers)?.byteOffset == 4)
        #expect(Self.error("[-NaN]", options: .nonFiniteNumbers)?.byteOffset == 2)
    }

    /// Parsers disagree on which of two equal keys wins (Foundation and Python keep the last, others the
    /// first), so a document that names a key twice is refused, at the repeated key.
    @Test(arguments: [
        (#"{"a":1,"a":2}"#, 7),
        (#"{"amount":"1.00","currency":"GBP","amount":"2.00"}"#, 34),
        (#"{"x":{"b":true,"c":null,"b":false}}"#, 24),
        (#"{"é":1,"\u00e9":2}"#, 8),
    ])
    func refusesDuplicateKeys(json: String, offset: Int) throws {
        let error = try #require(Self.error(json))
        #expect(error.code == .duplicateKey)
        #expect(error.byteOffset == offset)
        #expect(error.message.contains("appears twice"))
    }

    @Test func refusesDuplicateKeysInLargeObjects() throws {
        let members = (0..<40).map { "\"k\($0)\":\($0)" }
        let valid = "{" + members.joined(separator: ",") + "}"
        guard case .object(let parsed) = try Self.parse(valid) else {
            Issue.record("not an object")
            return
        }
        #expect(parsed.map(\.key) == (0..<40).map { "k\($0)" })
        let repeated = "{" + (members + [#""k3":0"#]).joined(separator: ",") + "}"
        #expect(Self.error(repeated)?.code == .duplicateKey)
        let repeatedEarly = "{" + (members.prefix(20) + [#""k19":0"#]).joined(separator: ",") + "}"
        #expect(Self.error(repeatedEarly)?.code == .duplicateKey)
    }

    @Test func theSameKeyInSiblingObjectsIsNotADuplicate() throws {
        let value = try Self.parse(#"{"a":{"id":1},"b":{"id":2},"c":[{"id":3},{"id":4}]}"#)
        #expect(value["b"]?["id"] == .number("2"))
        #expect(value["missing"] == nil)
        #expect(JSONValue.string("x")["a"] == nil)
    }

    @Test func rejectsInvalidUTF8InStrings() throws {
        do {
            _ = try JSONParser.parse([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")])
            Issue.record("parsed invalid UTF-8")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.byteOffset == 1)
        }
    }

    @Test func refusesAByteOrderMark() throws {
        do {
            _ = try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8))
            Issue.record("parsed a byte order mark")
        } catch {
            #expect(error.code == .unexpectedCharacter)
            #expect(error.byteOffset == 0)
        }
    }

    @Test func limitsNesting() throws {
        let depth = JSONParser.maximumDepth
        let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try Self.parse(deep)
        let tooDeep = "[" + deep + "]"
        #expect(Self.error(tooDeep)?.code == .nestingTooDeep)
        let deepObjects = String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        #expect(Self.error(deepObjects)?.code == .nestingTooDeep)
    }

    @Test func codesAreDistinctAndNamed() {
        let codes: [JSONError.Code] = [
            .unexpectedEndOfInput, .unexpectedCharacter, .trailingContent, .controlCharacterInString, .invalidEscape,
            .invalidUTF8, .nestingTooDeep, .duplicateKey,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(Set(codes.map(\.description)).count == codes.count)
    }
}
