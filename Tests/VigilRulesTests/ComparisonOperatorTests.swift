import Testing
@testable import VigilRules

@Suite struct ComparisonOperatorTests {
    /// For each operator, whether it holds for 1 vs 2, 2 vs 2 and 3 vs 2.
    @Test(arguments: [
        (ComparisonOperator.lessThan, [true, false, false]),
        (.lessThanOrEqual, [true, true, false]),
        (.greaterThan, [false, false, true]),
        (.greaterThanOrEqual, [false, true, true]),
        (.equal, [false, true, false]),
        (.notEqual, [true, false, true]),
    ])
    func truthTable(op: ComparisonOperator, expected: [Bool]) {
        #expect([1.0, 2.0, 3.0].map { op.holds($0, 2) } == expected)
    }

    @Test(arguments: ComparisonOperator.allCases)
    func nothingHoldsWithNaN(op: ComparisonOperator) {
        #expect(!op.holds(.nan, 2))
        #expect(!op.holds(2, .nan))
        #expect(!op.holds(.nan, .nan))
    }

    @Test func signedZerosAreEqual() {
        #expect(ComparisonOperator.equal.holds(-0.0, 0.0))
        #expect(!ComparisonOperator.notEqual.holds(-0.0, 0.0))
    }
}
