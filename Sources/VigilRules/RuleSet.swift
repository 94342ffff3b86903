/// A tenant's rule file, compiled and frozen for evaluation against each payment.
///
/// Compile once when the file is loaded; every error surfaces then. Evaluation walks a
/// flat instruction array and never fails.
public struct RuleSet: Sendable {
    /// How many `(` and `not` may be open at once in a condition; deeper input is rejected, not recursed into.
    public static let maximumNesting = 64

    /// A rule set with no rules, which never fires.
    public static let empty = RuleSet(
        rules: [], instructions: [], ruleEnds: [], textConstants: [], numericSlotCount: 0, textSlotCount: 0
    )

    /// The rules in file order; `evaluate` reports indices into this array.
    public let rules: [Rule]

    @usableFromInline
    let instructions: [RuleInstruction]
    /// `ruleEnds[i]` is one past rule `i`'s last instruction; rule `i` starts at `ruleEnds[i - 1]`, or 0.
    @usableFromInline
    let ruleEnds: [Int]
    @usableFromInline
    let textConstants: [String]
    /// The schema's slot counts, which evaluation inputs must cover.
    @usableFromInline
    let numericSlotCount: Int
    @usableFromInline
    let textSlotCount: Int

    init(
        rules: [Rule], instructions: [RuleInstruction], ruleEnds: [Int], textConstants: [String],
        numericSlotCount: Int, textSlotCount: Int
    ) {
        self.rules = rules
        self.instructions = instructions
        self.ruleEnds = ruleEnds
        self.textConstants = textConstants
        self.numericSlotCount = numericSlotCount
        self.textSlotCount = textSlotCount
    }

    /// Parses, checks and compiles a rule file.
    ///
    /// - Parameters:
    ///   - source: The rule file; an empty file is an empty rule set.
    ///   - schema: The operands rules may name and the input slots they read.
    /// - Throws: The first ``RuleError`` in the file, in source order.
    public static func compile(_ source: String, schema: RuleSchema) throws(RuleError) -> RuleSet {
        var parser = try RuleParser(source: source)
        var checker = RuleChecker(schema: schema)
        var compiler = RuleCompiler()
        var rules: [Rule] = []
        // Checking each statement as soon as it is parsed keeps errors in source order.
        while let statement = try parser.nextStatement() {
            compiler.append(try checker.check(statement))
            rules.append(Rule(name: statement.name, outcome: statement.outcome, line: statement.line))
        }
        return RuleSet(
            rules: rules, instructions: compiler.instructions, ruleEnds: compiler.ruleEnds,
            textConstants: compiler.textConstants, numericSlotCount: schema.numeric.count,
            textSlotCount: schema.text.count
        )
    }

    /// Calls `fired` with the index (into `rules`) of each rule whose condition holds, in file order.
    ///
    /// A NaN numeric input is missing and makes every comparison it takes part in false, `!=`
    /// included (so `not (x == 1)` holds when `x` is missing). An empty text input is just the
    /// string `""`. Text compares with `String` equality.
    ///
    /// - Parameters:
    ///   - numeric: Numeric inputs, laid out as the schema's `numeric` names.
    ///   - text: Text inputs, laid out as the schema's `text` names.
    ///   - fired: Receives each firing rule's index.
    /// - Precondition: The buffers hold at least as many values as the schema has names.
    /// - Performance: O(instructions): each rule's instructions run at most once, less what
    ///   `and`/`or` short-circuit past; no allocation.
    @inlinable
    public func evaluate(
        numeric: UnsafeBufferPointer<Double>, text: UnsafeBufferPointer<String>, fired: (Int) -> Void
    ) {
        // One check here lets the loop read slots, which compile bounded by the schema, unchecked.
        precondition(numeric.count >= self.numericSlotCount, "fewer numeric inputs than the rule schema has names")
        precondition(text.count >= self.textSlotCount, "fewer text inputs than the rule schema has names")
        var start = 0
        for ruleIndex in self.ruleEnds.indices {
            let end = self.ruleEnds[ruleIndex]
            var holds = false
            var next = start
            while next < end {
                switch self.instructions[next] {
                case .compareConstant(let op, let slot, let constant):
                    holds = op.holds(numeric[slot], constant)
                case .compareSlots(let op, let lhs, let rhs):
                    holds = op.holds(numeric[lhs], numeric[rhs])
                case .textEqualsSlot(let lhs, let rhs):
                    holds = text[lhs] == text[rhs]
                case .textIn(let slot, let constantsStart, let constantsEnd):
                    holds = false
                    let value = text[slot]
                    for index in constantsStart..<constantsEnd where self.textConstants[index] == value {
                        holds = true
                        break
                    }
                case .not:
                    holds.toggle()
                case .jumpIfFalse(let target):
                    if !holds {
                        next = target
                        continue
                    }
                case .jumpIfTrue(let target):
                    if holds {
                        next = target
                        continue
                    }
                }
                next += 1
            }
            if holds {
                fired(ruleIndex)
            }
            start = end
        }
    }
}
