/// One step of a compiled rule; a rule's steps leave its verdict in a single boolean register.
///
/// Comparisons set the register, `not` flips it, and the jumps give `and`/`or` their
/// short-circuit: an `and` term that is false jumps past the remaining terms with the
/// register already holding the `and`'s value, and likewise for `or` on true.
@usableFromInline
enum RuleInstruction: Equatable, Sendable {
    /// `numeric[slot] op constant`.
    case compareConstant(ComparisonOperator, slot: Int, constant: Double)
    /// `numeric[lhs] op numeric[rhs]`.
    case compareSlots(ComparisonOperator, lhs: Int, rhs: Int)
    /// `text[lhs] == text[rhs]`.
    case textEqualsSlot(lhs: Int, rhs: Int)
    /// `text[slot]` equals one of `textConstants[start..<end]`.
    case textIn(slot: Int, start: Int, end: Int)
    case not
    /// Continue at `target`, an absolute index, if the register is false.
    case jumpIfFalse(target: Int)
    /// Continue at `target`, an absolute index, if the register is true.
    case jumpIfTrue(target: Int)
}
