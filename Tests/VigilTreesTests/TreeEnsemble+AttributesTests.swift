import Testing
import VigilTrees

@Suite struct TreeEnsembleAttributesTests {
    static let base = TestModel(trees: [.stump()])

    static func load(attributes: String?) throws -> TreeEnsemble {
        try TreeEnsemble(xgboostJSON: Self.base.with { $0.attributes = attributes }.bytes)
    }

    static func loadError(attributes: String?) -> ModelError? {
        do {
            _ = try Self.load(attributes: attributes)
            return nil
        } catch let error as ModelError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func stringAttributesAreRead() throws {
        let ensemble = try Self.load(
            attributes: #"{"vigil_calibration":"{\"x\":[0.1,0.9]}","trained_by":"vigil","empty":""}"#
        )
        #expect(
            ensemble.attributes == [
                "vigil_calibration": #"{"x":[0.1,0.9]}"#, "trained_by": "vigil", "empty": "",
            ]
        )
    }

    @Test(arguments: [nil, "{}"])
    func absentOrEmptyAttributesAreEmpty(attributes: String?) throws {
        #expect(try Self.load(attributes: attributes).attributes.isEmpty)
    }

    @Test func theFixtureHasNoAttributes() throws {
        #expect(try Fixtures.model.get().attributes.isEmpty)
    }

    /// Python's `json` keeps the last of two equal keys; reading either one would let the model Vigil scores
    /// with differ from the one the file shows elsewhere, so neither is read.
    @Test func aRepeatedKeyIsMalformedJSON() throws {
        let bytes = Self.base.with { $0.attributes = #"{"a":"first","a":"second"}"# }.bytes
        let error = try #require(Self.loadError(attributes: #"{"a":"first","a":"second"}"#))
        #expect(error.code == .malformedJSON)
        let repeated = Array(#""a":"second""#.utf8)
        let offset = bytes.indices.first { bytes[$0...].starts(with: repeated) }
        #expect(error.byteOffset == offset)
        #expect(error.message.contains("appears twice"), "\(error.message)")
    }

    @Test(arguments: [
        (#"{"best_iteration":12}"#, "'learner.attributes.best_iteration'", "a number"),
        (#"{"ok":"yes","flag":true}"#, "'learner.attributes.flag'", "a boolean"),
        (#"{"nested":{"a":"b"}}"#, "'learner.attributes.nested'", "an object"),
        (#"{"none":null}"#, "'learner.attributes.none'", "null"),
        (#"["a","b"]"#, "'learner.attributes'", "an array"),
        (#""a=b""#, "'learner.attributes'", "a string"),
    ])
    func aNonStringAttributeIsAWrongType(attributes: String, path: String, found: String) throws {
        let error = try #require(Self.loadError(attributes: attributes))
        #expect(error.code == .wrongType)
        #expect(error.message.contains(path), "\(error.message)")
        #expect(error.message.contains(found), "\(error.message)")
    }
}
