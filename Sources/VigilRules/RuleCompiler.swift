/// Lowers checked conditions to one flat instruction array shared by all rules of a file.
struct RuleCompiler {
    private(set) var instructions: [RuleInstruction] = []
    /// `ruleEnds[i]` is one past the last instruction of rule `i`; rule `i` starts where rule `i - 1` ends.
    private(set) var ruleEnds: [Int] = []
    private(set) var textConstants: [String] = []

    mutating func append(_ condition: RuleCondition) {
        self.emit(condition)
        self.ruleEnds.append(self.instructions.count)
    }

    private mutating func emit(_ condition: RuleCondition) {
        switch condition {
        case .all(let terms):
            self.emitShortCircuit(terms, exit: { .jumpIfFalse(target: $0) })
        case .any(let terms):
            self.emitShortCircuit(terms, exit: { .jumpIfTrue(target: $0) })
        case .not(let operand):
            self.emit(operand)
            self.instructions.append(.not)
        case .numericConstant(let op, let slot, let constant):
            self.instructions.append(.compareConstant(op, slot: slot, constant: constant))
        case .numericSlots(let op, let lhs, let rhs):
            self.instructions.append(.compareSlots(op, lhs: lhs, rhs: rhs))
        case .textEqualsSlot(let lhs, let rhs):
            self.instructions.append(.textEqualsSlot(lhs: lhs, rhs: rhs))
        case .textIn(let slot, let strings):
            let start = self.textConstants.count
            self.textConstants.append(contentsOf: strings)
            self.instructions.append(.textIn(slot: slot, start: start, end: self.textConstants.count))
        }
    }

    /// Emits `terms` with an exit jump after each but the last, all aimed just past the last term.
    private mutating func emitShortCircuit(_ terms: [RuleCondition], exit: (Int) -> RuleInstruction) {
        var exits: [Int] = []
        for (index, term) in terms.enumerated() {
            self.emit(term)
            if index < terms.count - 1 {
                // The target is unknown until the last term is emitted; patched below.
                exits.append(self.instructions.count)
                self.instructions.append(exit(-1))
            }
        }
        for position in exits {
            self.instructions[position] = exit(self.instructions.count)
        }
    }
}
