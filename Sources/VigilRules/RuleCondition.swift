/// A rule condition after checking: operands resolved to input slots and every comparison well typed.
indirect enum RuleCondition: Equatable, Sendable {
    case any([RuleCondition])
    case all([RuleCondition])
    case not(RuleCondition)
    case numericConstant(ComparisonOperator, slot: Int, Double)
    case numericSlots(ComparisonOperator, lhs: Int, rhs: Int)
    case textEqualsSlot(lhs: Int, rhs: Int)
    /// `==` against a string literal is membership in a one-element list.
    case textIn(slot: Int, [String])
}
