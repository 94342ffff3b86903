import Testing
@testable import VigilRules

@Suite struct RuleCompilerTests {
    private func compile(_ conditions: [RuleCondition]) -> RuleCompiler {
        var compiler = RuleCompiler()
        for condition in conditions {
            compiler.append(condition)
        }
        return compiler
    }

    private let a = RuleCondition.numericConstant(.greaterThan, slot: 0, 1)
    private let b = RuleCondition.numericConstant(.lessThan, slot: 1, 2)
    private let c = RuleCondition.numericSlots(.equal, lhs: 0, rhs: 2)

    @Test func andJumpsPastTheRestOnFalse() {
        let compiler = self.compile([.all([self.a, self.b, self.c])])
        #expect(
            compiler.instructions == [
                .compareConstant(.greaterThan, slot: 0, constant: 1), .jumpIfFalse(target: 5),
                .compareConstant(.lessThan, slot: 1, constant: 2), .jumpIfFalse(target: 5),
                .compareSlots(.equal, lhs: 0, rhs: 2),
            ]
        )
        #expect(compiler.ruleEnds == [5])
    }

    @Test func orJumpsPastTheRestOnTrue() {
        let compiler = self.compile([.any([self.a, self.b])])
        #expect(
            compiler.instructions == [
                .compareConstant(.greaterThan, slot: 0, constant: 1), .jumpIfTrue(target: 3),
                .compareConstant(.lessThan, slot: 1, constant: 2),
            ]
        )
    }

    @Test func notFollowsItsOperandSoJumpsLandOnIt() {
        let compiler = self.compile([.not(.all([self.a, self.b]))])
        #expect(
            compiler.instructions == [
                .compareConstant(.greaterThan, slot: 0, constant: 1), .jumpIfFalse(target: 3),
                .compareConstant(.lessThan, slot: 1, constant: 2), .not,
            ]
        )
    }

    @Test func nestedGroupsJumpToTheirOwnEnds() {
        // (a and b) or c: the inner and exits onto the or's jump, which then sees its value.
        let compiler = self.compile([.any([.all([self.a, self.b]), self.c])])
        #expect(
            compiler.instructions == [
                .compareConstant(.greaterThan, slot: 0, constant: 1), .jumpIfFalse(target: 3),
                .compareConstant(.lessThan, slot: 1, constant: 2), .jumpIfTrue(target: 5),
                .compareSlots(.equal, lhs: 0, rhs: 2),
            ]
        )
    }

    @Test func laterRulesUseAbsoluteTargetsAndShareTheConstantPool() {
        let compiler = self.compile([
            .textIn(slot: 0, ["EUR"]),
            .all([.textIn(slot: 1, ["A", "B"]), .textEqualsSlot(lhs: 0, rhs: 1)]),
        ])
        #expect(
            compiler.instructions == [
                .textIn(slot: 0, start: 0, end: 1),
                .textIn(slot: 1, start: 1, end: 3), .jumpIfFalse(target: 4), .textEqualsSlot(lhs: 0, rhs: 1),
            ]
        )
        #expect(compiler.ruleEnds == [1, 4])
        #expect(compiler.textConstants == ["EUR", "A", "B"])
    }
}
