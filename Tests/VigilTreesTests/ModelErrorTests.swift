import Testing
import VigilTrees

@Suite struct ModelErrorTests {
    @Test func descriptionLeadsWithTheCode() {
        let error = ModelError(code: .indexOutOfRange, message: "tree 3, node 5: left_children is 900")
        #expect(error.description == "index out of range: tree 3, node 5: left_children is 900")
        #expect(error.byteOffset == nil)
    }

    @Test func codesAreDistinctAndNamed() {
        let codes: [ModelError.Code] = [
            .malformedJSON, .missingField, .wrongType, .invalidValue, .countMismatch, .unsupportedObjective,
            .unsupportedModel, .unsupportedSplit, .invalidTree, .indexOutOfRange,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(Set(codes.map(\.description)).count == codes.count)
        #expect(ModelError.Code.malformedJSON.description == "malformed JSON")
    }

    @Test func equalityComparesEveryField() {
        let error = ModelError(code: .malformedJSON, message: "m", byteOffset: 4)
        #expect(error == ModelError(code: .malformedJSON, message: "m", byteOffset: 4))
        #expect(error != ModelError(code: .malformedJSON, message: "m", byteOffset: 5))
        #expect(error != ModelError(code: .wrongType, message: "m", byteOffset: 4))
    }
}
