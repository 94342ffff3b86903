import Testing

@testable import VigilTrees

@Suite struct JSONParserTests {
    static func parse(_ json: String) throws(ModelError) -> JSONValue {
        try JSONParser.parse(Array(json.utf8))
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
        (#"[NaN, Infinity, -Infinity]"#, "[#NaN,#Infinity,#-Infinity]"),
        ("\t\r\n\"plain\"\n", "'plain'"),
        (#"["\"\\\/\b\f\n\r\t"]"#, "['\"\\/\u{08}\u{0C}\n\r\t']"),
        (#"["\u00e9\u20AC\ud83d\ude00"]"#, "['é€😀']"),
        ("[\"é€😀\"]", "['é€😀']"),
        (#"{"a":1,"a":2}"#, "{a:#1,a:#2}"),
    ])
    func parsesValidJSON(json: String, rendered: String) throws {
        #expect(Self.render(try Self.parse(json)) == rendered)
    }

    @Test(arguments: [
        ("", 0), ("  ", 2), ("[1 2]", 3), ("[01]", 2), ("[1.]", 3), ("[1e]", 3), ("[.5]", 1), ("[+1]", 1),
        ("{1:2}", 1), (#"{"a":}"#, 5), ("[nul]", 4), (#"["\ud83d"]"#, 8), (#"["\ude00"]"#, 8),
        (#"["\u12G4"]"#, 6), ("[\"abc", 5), ("[1]]", 3), ("[Inf]", 4), ("[-NaN]", 2),
    ])
    func rejectsInvalidJSON(json: String, offset: Int) throws {
        do {
            let value = try Self.parse(json)
            Issue.record("parsed \(Self.render(value))")
        } catch {
            #expect(error.code == .malformedJSON)
            #expect(error.byteOffset == offset, "\(error.message)")
        }
    }

    @Test func rejectsInvalidUTF8InStrings() throws {
        do {
            _ = try JSONParser.parse([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")])
            Issue.record("parsed invalid UTF-8")
        } catch {
            #expect(error.code == .malformedJSON)
            #expect(error.byteOffset == 1)
        }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try Self.parse(deep)
        let tooDeep = "[" + deep + "]"
        #expect(throws: ModelError.self) { try Self.parse(tooDeep) }
    }

    @Test func fixtureParsesToTheExpectedShape() throws {
        let document = try JSONParser.parse(try Fixtures.bytes("model.json"))
        let trees = try JSONField(root: document).member("learner").member("gradient_booster").member("model")
            .member("trees").array()
        #expect(trees.count == 300)
        let first = JSONField(value: trees[0], path: "trees[0]")
        let thresholds = try first.member("split_conditions").floatArray()
        #expect(thresholds.count == 107)
        #expect(thresholds[0] == Float("-2.3970914E0"))
        #expect(try first.member("left_children").integerArray().prefix(3) == [1, 3, 5])
    }
}
