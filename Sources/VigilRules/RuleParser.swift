/// A recursive-descent parser from rule-file tokens to ``RuleStatement``s.
///
/// ```
/// file       = { statement } ;
/// statement  = "rule" string ":" or "->" outcome ;
/// outcome    = "allow" | "review" | "block" ;
/// or         = and { "or" and } ;
/// and        = not { "and" not } ;
/// not        = "not" not | primary ;
/// primary    = "(" or ")" | comparison ;
/// comparison = operand ( compare value | "in" "[" literal { "," literal } "]" ) ;
/// compare    = "<" | "<=" | ">" | ">=" | "==" | "!=" ;
/// value      = operand | number | string ;
/// literal    = number | string ;   (* the checker then requires strings *)
/// ```
///
/// At most ``RuleSet/maximumNesting`` `(` and `not` may be open at once.
struct RuleParser {
    private var lexer: RuleLexer
    private var token: RuleToken
    /// Open `(` and `not` around the current point, bounded so hostile input cannot exhaust the stack.
    private var nesting = 0
    private let maximumNesting: Int

    init(source: String, maximumNesting: Int = RuleSet.maximumNesting) throws(RuleError) {
        var lexer = RuleLexer(source)
        self.token = try lexer.next()
        self.lexer = lexer
        self.maximumNesting = maximumNesting
    }

    /// The next statement, or `nil` at the end of the file.
    mutating func nextStatement() throws(RuleError) -> RuleStatement? {
        switch self.token.kind {
        case .endOfInput:
            return nil
        case .keyword(.rule):
            break
        default:
            throw self.unexpected("'rule' or end of input")
        }
        let line = self.token.position.line
        try self.advance()
        guard case .string(let name) = self.token.kind else {
            throw self.unexpected("a rule name in double quotes")
        }
        let namePosition = self.token.position
        try self.advance()
        guard self.token.kind == .colon else { throw self.unexpected("':'") }
        try self.advance()
        self.nesting = 0
        let condition = try self.parseOr()
        guard self.token.kind == .arrow else { throw self.unexpected("'and', 'or' or '->'") }
        try self.advance()
        guard case .identifier(let word) = self.token.kind else {
            throw self.unexpected("an outcome ('allow', 'review' or 'block')")
        }
        guard let outcome = RuleOutcome(name: word) else {
            throw RuleError(
                .unknownOutcome, at: self.token.position,
                "unknown outcome '\(truncated(word))', expected 'allow', 'review' or 'block'"
            )
        }
        try self.advance()
        return RuleStatement(name: name, namePosition: namePosition, condition: condition, outcome: outcome, line: line)
    }

    /// Every statement in the file.
    mutating func parseFile() throws(RuleError) -> [RuleStatement] {
        var statements: [RuleStatement] = []
        while let statement = try self.nextStatement() {
            statements.append(statement)
        }
        return statements
    }

    private mutating func parseOr() throws(RuleError) -> RuleExpression {
        var terms = [try self.parseAnd()]
        while self.token.kind == .keyword(.or) {
            try self.advance()
            terms.append(try self.parseAnd())
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd() throws(RuleError) -> RuleExpression {
        var terms = [try self.parseNot()]
        while self.token.kind == .keyword(.and) {
            try self.advance()
            terms.append(try self.parseNot())
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseNot() throws(RuleError) -> RuleExpression {
        guard self.token.kind == .keyword(.not) else { return try self.parsePrimary() }
        try self.enterNesting()
        try self.advance()
        let operand = try self.parseNot()
        self.nesting -= 1
        return .not(operand)
    }

    private mutating func parsePrimary() throws(RuleError) -> RuleExpression {
        switch self.token.kind {
        case .leftParen:
            try self.enterNesting()
            try self.advance()
            let inner = try self.parseOr()
            guard self.token.kind == .rightParen else { throw self.unexpected("'and', 'or' or ')'") }
            try self.advance()
            self.nesting -= 1
            return inner
        case .identifier(let name):
            let operand = OperandReference(name: name, position: self.token.position)
            try self.advance()
            return try self.parseComparison(operand)
        default:
            throw self.unexpected("an operand, 'not' or '('")
        }
    }

    private mutating func parseComparison(_ operand: OperandReference) throws(RuleError) -> RuleExpression {
        switch self.token.kind {
        case .comparison(let op):
            let operatorPosition = self.token.position
            try self.advance()
            let value: RuleValue
            switch self.token.kind {
            case .identifier(let name): value = .operand(OperandReference(name: name, position: self.token.position))
            case .number(let number): value = .number(number, position: self.token.position)
            case .string(let text): value = .string(text, position: self.token.position)
            default: throw self.unexpected("a number, a string or an operand")
            }
            try self.advance()
            return .comparison(operand, op, operatorPosition: operatorPosition, value)
        case .keyword(.in):
            let inPosition = self.token.position
            try self.advance()
            guard self.token.kind == .leftBracket else { throw self.unexpected("'['") }
            try self.advance()
            var elements: [RuleValue] = []
            while true {
                // Numbers are accepted here so the checker can report them as a type mismatch.
                switch self.token.kind {
                case .string(let text): elements.append(.string(text, position: self.token.position))
                case .number(let number): elements.append(.number(number, position: self.token.position))
                default: throw self.unexpected("a string")
                }
                try self.advance()
                if self.token.kind == .rightBracket { break }
                guard self.token.kind == .comma else { throw self.unexpected("',' or ']'") }
                try self.advance()
            }
            try self.advance()
            return .membership(operand, inPosition: inPosition, elements)
        default:
            throw self.unexpected("a comparison operator or 'in'")
        }
    }

    private mutating func enterNesting() throws(RuleError) {
        guard self.nesting < self.maximumNesting else {
            throw RuleError(
                .nestingTooDeep, at: self.token.position,
                "expression nested too deeply, expected at most \(self.maximumNesting) levels of '(' and 'not'"
            )
        }
        self.nesting += 1
    }

    private mutating func advance() throws(RuleError) {
        self.token = try self.lexer.next()
    }

    private func unexpected(_ expected: String) -> RuleError {
        RuleError(.unexpectedToken, at: self.token.position, "expected \(expected), found \(self.token)")
    }
}
