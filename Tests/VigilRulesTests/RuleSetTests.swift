import Testing
@testable import VigilRules

@Suite struct RuleSetTests {
    static let example = """
        # comments run to end of line
        rule "mule-burst": creditor.first_time_senders_1h >= 10 and amount > 500 -> review
        rule "big-new-payee":
            pair.new_payee == 1 and amount >= 10000 and not (channel == "branch") -> block
        rule "sepa-eur": scheme in ["SEPA_INST", "PIX"] and currency != "EUR" or score >= 950 -> review
        """

    // MARK: Compiling

    @Test func exampleFileCompilesToItsRules() throws {
        let rules = try RuleSet.compile(Self.example, schema: .payments).rules
        #expect(
            rules == [
                Rule(name: "mule-burst", outcome: .review, line: 2),
                Rule(name: "big-new-payee", outcome: .block, line: 3),
                Rule(name: "sepa-eur", outcome: .review, line: 5),
            ]
        )
    }

    @Test(arguments: ["", " \n\n ", "# nothing but a comment\n"])
    func emptyFilesAreEmptyRuleSets(source: String) throws {
        let rules = try RuleSet.compile(source, schema: .payments)
        #expect(rules.rules.isEmpty)
        #expect(rules.firedIndices(numeric: [1, 2, 3, 4, 5], text: ["", "", "", ""]).isEmpty)
    }

    @Test func theEmptyRuleSetNeverFires() {
        #expect(RuleSet.empty.rules.isEmpty)
        #expect(RuleSet.empty.firedIndices(numeric: [], text: []).isEmpty)
    }

    // MARK: Evaluating

    /// Inputs in ``RuleSchema/payments`` order.
    private func payment(
        score: Double = 0, amount: Double = 0, firstTimeSenders: Double = 0, newPayee: Double = 0,
        currency: String = "EUR", scheme: String = "SEPA_INST", channel: String = "mobile"
    ) -> (numeric: [Double], text: [String]) {
        ([score, amount, firstTimeSenders, newPayee, 0], [currency, "debtor", scheme, channel])
    }

    @Test func exampleFileFiresTheMatchingRulesInFileOrder() throws {
        let rules = try RuleSet.compile(Self.example, schema: .payments)
        let quiet = self.payment(amount: 100)
        #expect(rules.firedIndices(numeric: quiet.numeric, text: quiet.text) == [])
        let mule = self.payment(amount: 600, firstTimeSenders: 12)
        #expect(rules.firedIndices(numeric: mule.numeric, text: mule.text) == [0])
        let everything = self.payment(score: 990, amount: 20_000, firstTimeSenders: 10, newPayee: 1)
        #expect(rules.firedIndices(numeric: everything.numeric, text: everything.text) == [0, 1, 2])
        let atBranch = self.payment(score: 990, amount: 20_000, firstTimeSenders: 10, newPayee: 1, channel: "branch")
        #expect(rules.firedIndices(numeric: atBranch.numeric, text: atBranch.text) == [0, 2])
        let pixInUSD = self.payment(amount: 20_000, currency: "USD", scheme: "PIX")
        #expect(rules.firedIndices(numeric: pixInUSD.numeric, text: pixInUSD.text) == [2])
    }

    @Test func firedReportsEveryHoldingRuleInFileOrder() throws {
        let source = (0..<10).map { "rule \"r\($0)\": x >= \($0) -> allow" }.joined(separator: "\n")
        let rules = try RuleSet.compile(source, schema: .small)
        #expect(rules.firedIndices(numeric: [4, 0, 0], text: ["", ""]) == [0, 1, 2, 3, 4])
        #expect(rules.firedIndices(numeric: [-1, 0, 0], text: ["", ""]) == [])
        #expect(rules.firedIndices(numeric: [9, 0, 0], text: ["", ""]) == Array(0..<10))
    }

    @Test(arguments: [
        (1.0, 1.0, true), (1, 0, false), (0, 1, false), (0, 0, false),
    ])
    func andTruthTable(x: Double, y: Double, expected: Bool) throws {
        #expect(try condition("x > 0 and y > 0").fires(numeric: [x, y, 0], text: ["", ""]) == expected)
    }

    @Test(arguments: [
        (1.0, 1.0, true), (1, 0, true), (0, 1, true), (0, 0, false),
    ])
    func orTruthTable(x: Double, y: Double, expected: Bool) throws {
        #expect(try condition("x > 0 or y > 0").fires(numeric: [x, y, 0], text: ["", ""]) == expected)
    }

    @Test(arguments: [(1.0, false), (0, true)])
    func notTruthTable(x: Double, expected: Bool) throws {
        #expect(try condition("not x > 0").fires(numeric: [x, 0, 0], text: ["", ""]) == expected)
        #expect(try condition("not not x > 0").fires(numeric: [x, 0, 0], text: ["", ""]) == !expected)
    }

    /// `x or y and z` with each of x, y, z true (1) or false (0); `and` binds tighter than `or`.
    @Test(arguments: [
        ([0.0, 0, 0], false), ([0, 0, 1], false), ([0, 1, 0], false), ([0, 1, 1], true),
        ([1, 0, 0], true), ([1, 0, 1], true), ([1, 1, 0], true), ([1, 1, 1], true),
    ])
    func andBindsTighterThanOr(inputs: [Double], expected: Bool) throws {
        #expect(try condition("x > 0 or y > 0 and z > 0").fires(numeric: inputs, text: ["", ""]) == expected)
        #expect(try condition("y > 0 and z > 0 or x > 0").fires(numeric: inputs, text: ["", ""]) == expected)
        let grouped = (inputs[0] > 0 || inputs[1] > 0) && inputs[2] > 0
        #expect(try condition("(x > 0 or y > 0) and z > 0").fires(numeric: inputs, text: ["", ""]) == grouped)
    }

    /// `not x and y`: `not` binds tighter than `and`.
    @Test(arguments: [
        ([0.0, 0], false), ([0, 1], true), ([1, 0], false), ([1, 1], false),
    ])
    func notBindsTighterThanAnd(inputs: [Double], expected: Bool) throws {
        let numeric = inputs + [0]
        #expect(try condition("not x > 0 and y > 0").fires(numeric: numeric, text: ["", ""]) == expected)
        let negatedConjunction = !(inputs[0] > 0 && inputs[1] > 0)
        #expect(try condition("not (x > 0 and y > 0)").fires(numeric: numeric, text: ["", ""]) == negatedConjunction)
    }

    /// Each operator against the constant 2 for inputs 1, 2 and 3.
    @Test(arguments: [
        ("<", [true, false, false]), ("<=", [true, true, false]), (">", [false, false, true]),
        (">=", [false, true, true]), ("==", [false, true, false]), ("!=", [true, false, true]),
    ])
    func numericComparisonsWithAConstant(op: String, expected: [Bool]) throws {
        let rules = try condition("x \(op) 2")
        #expect([1.0, 2, 3].map { rules.fires(numeric: [$0, 0, 0], text: ["", ""]) } == expected)
    }

    @Test(arguments: [
        ("<", [true, false, false]), ("<=", [true, true, false]), (">", [false, false, true]),
        (">=", [false, true, true]), ("==", [false, true, false]), ("!=", [true, false, true]),
    ])
    func numericComparisonsBetweenOperands(op: String, expected: [Bool]) throws {
        let rules = try condition("x \(op) y")
        #expect([1.0, 2, 3].map { rules.fires(numeric: [$0, 2, 0], text: ["", ""]) } == expected)
    }

    @Test(arguments: [(-1.4, true), (-1.5, false), (-1.6, false)])
    func negativeDecimalConstants(x: Double, expected: Bool) throws {
        #expect(try condition("x > -1.5").fires(numeric: [x, 0, 0], text: ["", ""]) == expected)
    }

    @Test(arguments: ["<", "<=", ">", ">=", "==", "!="])
    func missingNumbersFailEveryComparison(op: String) throws {
        #expect(try !condition("x \(op) 2").fires(numeric: [.nan, 0, 0], text: ["", ""]))
        #expect(try !condition("x \(op) y").fires(numeric: [.nan, 2, 0], text: ["", ""]))
        #expect(try !condition("y \(op) x").fires(numeric: [.nan, 2, 0], text: ["", ""]))
        #expect(try !condition("x \(op) x").fires(numeric: [.nan, 0, 0], text: ["", ""]))
    }

    @Test func notOfAMissingComparisonHolds() throws {
        #expect(try condition("not x == 2").fires(numeric: [.nan, 0, 0], text: ["", ""]))
        #expect(try condition("not x != 2").fires(numeric: [.nan, 0, 0], text: ["", ""]))
        #expect(try condition("x != 2 or y == 0").fires(numeric: [.nan, 0, 0], text: ["", ""]))
        #expect(try !condition("x != 2 and y == 0").fires(numeric: [.nan, 0, 0], text: ["", ""]))
    }

    @Test(arguments: [
        ("EUR", true, false), ("USD", false, true), ("", false, true), ("eur", false, true),
    ])
    func textEqualityWithAString(s: String, equal: Bool, notEqual: Bool) throws {
        #expect(try condition("s == \"EUR\"").fires(text: [s, ""]) == equal)
        #expect(try condition("s != \"EUR\"").fires(text: [s, ""]) == notEqual)
    }

    @Test func missingTextIsTheEmptyString() throws {
        #expect(try condition("s == \"\"").fires(text: ["", "x"]))
        #expect(try !condition("s != \"\"").fires(text: ["", "x"]))
        #expect(try condition("s in [\"A\", \"\"]").fires(text: ["", "x"]))
    }

    @Test(arguments: [
        ("A", "A", true), ("A", "B", false), ("", "", true), ("", "A", false),
    ])
    func textEqualityBetweenOperands(s: String, t: String, expected: Bool) throws {
        #expect(try condition("s == t").fires(text: [s, t]) == expected)
        #expect(try condition("s != t").fires(text: [s, t]) == !expected)
    }

    @Test(arguments: [
        ("SEPA_INST", true), ("PIX", true), ("FPS", false), ("", false), ("PIX ", false), ("pix", false),
    ])
    func textIn(scheme: String, expected: Bool) throws {
        #expect(try condition("s in [\"SEPA_INST\", \"PIX\"]").fires(text: [scheme, ""]) == expected)
        #expect(try condition("not s in [\"SEPA_INST\", \"PIX\"]").fires(text: [scheme, ""]) == !expected)
    }

    @Test func escapedStringsMatchTheirUnescapedValue() throws {
        #expect(try condition(#"s == "say \"hi\" \\o/""#).fires(text: [#"say "hi" \o/"#, ""]))
        #expect(try condition(#"s in ["é", "ü"]"#).fires(text: ["ü", ""]))
    }

    @Test func longChainsShortCircuitToTheRightAnswer() throws {
        let terms = (0..<2_000).map { "x != \($0)" }
        let allDifferent = try condition(terms.joined(separator: " and "))
        #expect(allDifferent.fires(numeric: [5_000, 0, 0], text: ["", ""]))
        #expect(!allDifferent.fires(numeric: [1_999, 0, 0], text: ["", ""]))
        let anyEqual = try condition(terms.map { "not " + $0 }.joined(separator: " or "))
        #expect(anyEqual.fires(numeric: [1_999, 0, 0], text: ["", ""]))
        #expect(!anyEqual.fires(numeric: [-1, 0, 0], text: ["", ""]))
    }

    @Test func extraInputSlotsAreIgnored() throws {
        #expect(try condition("x > 0").fires(numeric: [1, 0, 0, 99, 99], text: ["", "", "extra"]))
    }

    // MARK: Robustness

    /// Random conditions, rendered with as few parentheses as precedence allows, must evaluate
    /// exactly as a direct interpretation of the generated tree does.
    @Test func compiledConditionsAgreeWithAReferenceInterpreter() throws {
        var random = SplitMix64(seed: 0x5EED_0001)
        for _ in 0..<400 {
            let generated = GeneratedCondition.random(depth: 4, using: &random)
            let source = "rule \"g\": \(generated.source(using: &random)) -> block"
            let rules = try RuleSet.compile(source, schema: .small)
            for _ in 0..<25 {
                let numeric = (0..<3).map { _ in GeneratedCondition.numbers.randomElement(using: &random)! }
                let text = (0..<2).map { _ in GeneratedCondition.strings.randomElement(using: &random)! }
                let expected = generated.holds(numeric: numeric, text: text)
                #expect(
                    rules.fires(numeric: numeric, text: text) == expected,
                    "\(source) with numeric \(numeric) text \(text)"
                )
            }
        }
    }

    /// Mutated and random sources never crash the compiler, and every error points inside the source.
    @Test func randomAndMutatedSourcesNeverCrash() {
        var random = SplitMix64(seed: 0xF022_0002)
        let seeds = [
            Self.example,
            "rule \"a\": not (x > -1.5 or s in [\"A\", \"B\\\"\"]) and y != z -> allow",
            "rule \"é\":\r\n\t(s == t) -> review # trailing",
        ]
        var compiled = 0
        var rejected = 0
        for iteration in 0..<3_000 {
            let source: String
            if iteration % 3 == 0 {
                source = Fuzz.soup(length: Int.random(in: 0..<120, using: &random), using: &random)
            } else {
                source = Fuzz.mutate(seeds.randomElement(using: &random)!, using: &random)
            }
            let schema: RuleSchema = source.contains("mule-burst") ? .payments : .small
            do {
                let rules = try RuleSet.compile(source, schema: schema)
                let numeric = (0..<schema.numeric.count).map { _ in [Double.nan, 0, 1, -1.5, 1e300].randomElement(using: &random)! }
                let text = (0..<schema.text.count).map { _ in ["", "A", "EUR"].randomElement(using: &random)! }
                var firedCount = 0
                numeric.withUnsafeBufferPointer { numeric in
                    text.withUnsafeBufferPointer { text in
                        rules.evaluate(numeric: numeric, text: text) { index in
                            #expect(rules.rules.indices.contains(index))
                            firedCount += 1
                        }
                    }
                }
                #expect(firedCount <= rules.rules.count)
                compiled += 1
            } catch {
                Fuzz.expectLocated(error, in: source)
                rejected += 1
            }
        }
        // Both paths must have been exercised for the test to mean anything.
        #expect(compiled > 100)
        #expect(rejected > 1_000)
    }

    /// Inputs built to exhaust the parser: deep nesting, huge lists, long comments and escapes, many lines.
    static let hostile: [LargeSource] = [
        LargeSource("200,000 '('", String(repeating: "(", count: 200_000)),
        LargeSource("100,000 'not'", "rule \"a\": " + String(repeating: "not ", count: 100_000) + "x > 1 -> allow"),
        LargeSource("50,000 '(not'", "rule \"a\": " + String(repeating: "(not ", count: 50_000)),
        LargeSource("20,000-item list", "rule \"a\": x in [" + String(repeating: "\"A\", ", count: 20_000) + "\"B\"] -> allow"),
        LargeSource(
            "100,000-character comment",
            String(repeating: "rule \"a\": x > 1 -> allow\n", count: 2) + String(repeating: "#", count: 100_000)
        ),
        LargeSource("unterminated name of 50,000 escapes", "rule \"" + String(repeating: "\\\\", count: 50_000)),
        LargeSource("100,000 line feeds", String(repeating: "\n", count: 100_000) + "rule"),
    ]

    @Test(arguments: Self.hostile)
    func hostileInputsAreRejectedWithoutCrashing(source: LargeSource) {
        if let error = compileError(source.text, schema: .small) {
            Fuzz.expectLocated(error, in: source.text)
        }
    }
}

/// A random, well-typed condition over ``RuleSchema/small`` with its own evaluator.
indirect enum GeneratedCondition {
    case and([GeneratedCondition])
    case or([GeneratedCondition])
    case not(GeneratedCondition)
    case numericConstant(String, Int, Double)
    case numericSlots(String, Int, Int)
    case textConstant(String, Int, String)
    case textSlots(String, Int, Int)
    case textIn(Int, [String])

    static let numericNames = ["x", "y", "z"]
    static let textNames = ["s", "t"]
    static let numericOperators = ["<", "<=", ">", ">=", "==", "!="]
    static let numbers: [Double] = [-1.5, 0, 1, 2.25, .nan]
    static let strings = ["", "A", "B", "é\"\\"]

    static func random(depth: Int, using random: inout SplitMix64) -> GeneratedCondition {
        let choice = depth == 0 ? Int.random(in: 3..<8, using: &random) : Int.random(in: 0..<8, using: &random)
        let numericSlot = Int.random(in: 0..<3, using: &random)
        let textSlot = Int.random(in: 0..<2, using: &random)
        let finiteNumbers = Self.numbers.filter { !$0.isNaN }
        switch choice {
        case 0: return .and((0..<Int.random(in: 2...4, using: &random)).map { _ in Self.random(depth: depth - 1, using: &random) })
        case 1: return .or((0..<Int.random(in: 2...4, using: &random)).map { _ in Self.random(depth: depth - 1, using: &random) })
        case 2: return .not(Self.random(depth: depth - 1, using: &random))
        case 3:
            return .numericConstant(
                Self.numericOperators.randomElement(using: &random)!, numericSlot, finiteNumbers.randomElement(using: &random)!
            )
        case 4:
            return .numericSlots(Self.numericOperators.randomElement(using: &random)!, numericSlot, Int.random(in: 0..<3, using: &random))
        case 5: return .textConstant(["==", "!="].randomElement(using: &random)!, textSlot, Self.strings.randomElement(using: &random)!)
        case 6: return .textSlots(["==", "!="].randomElement(using: &random)!, 0, 1)
        default:
            return .textIn(textSlot, (0..<Int.random(in: 1...3, using: &random)).map { _ in Self.strings.randomElement(using: &random)! })
        }
    }

    /// Binding strength: `or` 1, `and` 2, `not` and comparisons 3.
    private var strength: Int {
        switch self {
        case .or: 1
        case .and: 2
        default: 3
        }
    }

    func source(using random: inout SplitMix64) -> String {
        switch self {
        case .and(let terms): terms.map { $0.source(within: 2, using: &random) }.joined(separator: " and ")
        case .or(let terms): terms.map { $0.source(within: 1, using: &random) }.joined(separator: " or ")
        case .not(let operand): "not " + operand.source(within: 3, using: &random)
        case .numericConstant(let op, let slot, let value): "\(Self.numericNames[slot]) \(op) \(value)"
        case .numericSlots(let op, let lhs, let rhs): "\(Self.numericNames[lhs]) \(op) \(Self.numericNames[rhs])"
        case .textConstant(let op, let slot, let value): "\(Self.textNames[slot]) \(op) \(Self.literal(value))"
        case .textSlots(let op, let lhs, let rhs): "\(Self.textNames[lhs]) \(op) \(Self.textNames[rhs])"
        case .textIn(let slot, let values): "\(Self.textNames[slot]) in [\(values.map(Self.literal).joined(separator: ", "))]"
        }
    }

    /// Source for this condition as an operand of something binding with `strength`: parenthesised
    /// when it binds more loosely, and sometimes anyway.
    private func source(within strength: Int, using random: inout SplitMix64) -> String {
        let inner = self.source(using: &random)
        let needed = self.strength <= strength && self.strength < 3
        return needed || Int.random(in: 0..<8, using: &random) == 0 ? "(\(inner))" : inner
    }

    private static func literal(_ value: String) -> String {
        "\"" + value.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }

    func holds(numeric: [Double], text: [String]) -> Bool {
        switch self {
        case .and(let terms): terms.allSatisfy { $0.holds(numeric: numeric, text: text) }
        case .or(let terms): terms.contains { $0.holds(numeric: numeric, text: text) }
        case .not(let operand): !operand.holds(numeric: numeric, text: text)
        case .numericConstant(let op, let slot, let value): Self.compare(numeric[slot], op, value)
        case .numericSlots(let op, let lhs, let rhs): Self.compare(numeric[lhs], op, numeric[rhs])
        case .textConstant(let op, let slot, let value): (text[slot] == value) == (op == "==")
        case .textSlots(let op, let lhs, let rhs): (text[lhs] == text[rhs]) == (op == "==")
        case .textIn(let slot, let values): values.contains(text[slot])
        }
    }

    private static func compare(_ lhs: Double, _ op: String, _ rhs: Double) -> Bool {
        if lhs.isNaN || rhs.isNaN { return false }
        switch op {
        case "<": return lhs < rhs
        case "<=": return lhs <= rhs
        case ">": return lhs > rhs
        case ">=": return lhs >= rhs
        case "==": return lhs == rhs
        default: return lhs != rhs
        }
    }
}

/// Generators and checks for the robustness tests.
enum Fuzz {
    static let fragments = [
        "rule", " rule ", "\"", "\"a\"", "\"b\"", ":", "(", ")", "[", "]", ",", "not ", " and ", " or ", " in ", "->",
        "-", ">", ">=", "<", "<=", "==", "!=", "=", "!", "x", "y", "s", "t", "amount", "1", "-1.5", "1.2.3", "7x",
        "\\", "\\\"", "#", "\n", "\r\n", "\t", " ", "é", "\u{0}", "\u{7F}", "🏦", "allow", "review", "block", "deny",
    ]

    static func soup(length: Int, using random: inout SplitMix64) -> String {
        (0..<length).map { _ in Self.fragments.randomElement(using: &random)! }.joined()
    }

    static func mutate(_ seed: String, using random: inout SplitMix64) -> String {
        var scalars = Array(seed.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0...scalars.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where position < scalars.count:
                let end = min(scalars.count, position + Int.random(in: 1...6, using: &random))
                scalars.removeSubrange(position..<end)
            case 1:
                scalars.insert(contentsOf: Self.fragments.randomElement(using: &random)!.unicodeScalars, at: position)
            case 2 where position < scalars.count:
                scalars[position] = Self.fragments.randomElement(using: &random)!.unicodeScalars.first ?? " "
            default:
                let end = min(scalars.count, position + Int.random(in: 0...10, using: &random))
                scalars.insert(contentsOf: scalars[position..<end], at: position)
            }
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    /// `error` names a real line of `source` and a column at most one past that line's end.
    static func expectLocated(_ error: RuleError, in source: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        #expect((1...lines.count).contains(error.line), "\(error)", sourceLocation: sourceLocation)
        if (1...lines.count).contains(error.line) {
            let width = lines[error.line - 1].count
            #expect((1...(width + 1)).contains(error.column), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(error.description.hasPrefix("line \(error.line), column \(error.column): "), sourceLocation: sourceLocation)
        #expect(error.message.unicodeScalars.count < 300, "\(error)", sourceLocation: sourceLocation)
    }
}

/// A small seeded generator, so a failing robustness case reproduces.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    /// `self` with every `target` replaced, without Foundation.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}

@Suite struct LargeSourceTests {
    /// The test log shows a large argument by its name: one line, however many line feeds the source holds.
    @Test func describesItselfOnOneShortLine() {
        let source = LargeSource("100,000 line feeds", String(repeating: "\n", count: 100_000) + "rule")
        #expect(source.testDescription == "100,000 line feeds (100004 bytes)")
        #expect(!source.testDescription.contains("\n"))
    }
}
