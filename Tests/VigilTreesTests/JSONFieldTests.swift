import Testing
import VigilJSON

@testable import VigilTrees

@Suite struct JSONFieldTests {
    @Test func fixtureParsesToTheExpectedShape() throws {
        let document = try JSONParser.parse(try Fixtures.bytes("model.json"), options: .nonFiniteNumbers)
        let trees = try JSONField(root: document).member("learner").member("gradient_booster").member("model")
            .member("trees").array()
        #expect(trees.count == 300)
        let first = JSONField(value: trees[0], path: "trees[0]")
        let thresholds = try first.member("split_conditions").floatArray()
        #expect(thresholds.count == 107)
        #expect(thresholds[0] == Float("-2.3970914E0"))
        #expect(try first.member("left_children").integerArray().prefix(3) == [1, 3, 5])
    }

    @Test func aWrongTypeNamesThePath() throws {
        let document = try JSONParser.parse(Array(#"{"a":{"b":"x"}}"#.utf8))
        let error = #expect(throws: ModelError.self) {
            try JSONField(root: document).member("a").member("b").array()
        }
        #expect(error?.code == .wrongType)
        #expect(error?.message == "'a.b' is a string, expected an array")
    }
}
