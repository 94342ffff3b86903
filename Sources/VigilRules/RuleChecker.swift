/// Checks parsed statements against a schema: names, operands and types.
struct RuleChecker {
    private let schema: RuleSchema
    private var lineByName: [String: Int] = [:]

    init(schema: RuleSchema) {
        self.schema = schema
    }

    /// The resolved condition of `statement`, which must be named differently from every statement checked before it.
    mutating func check(_ statement: RuleStatement) throws(RuleError) -> RuleCondition {
        guard !statement.name.isEmpty else {
            throw RuleError(.emptyName, at: statement.namePosition, "empty rule name, expected at least one character")
        }
        if let firstLine = self.lineByName[statement.name] {
            throw RuleError(
                .duplicateName, at: statement.namePosition,
                "duplicate rule name \"\(quoted(statement.name))\", first used on line \(firstLine), expected a unique name"
            )
        }
        let condition = try self.resolve(statement.condition)
        self.lineByName[statement.name] = statement.line
        return condition
    }

    private func resolve(_ expression: RuleExpression) throws(RuleError) -> RuleCondition {
        switch expression {
        case .or(let terms):
            return .any(try self.resolve(terms))
        case .and(let terms):
            return .all(try self.resolve(terms))
        case .not(let operand):
            return .not(try self.resolve(operand))
        case .comparison(let lhs, let op, let operatorPosition, let rhs):
            switch try self.slot(lhs) {
            case .numeric(let slot):
                return try self.numericComparison(lhs, slot: slot, op, rhs)
            case .text(let slot):
                guard op == .equal || op == .notEqual else {
                    throw RuleError(
                        .typeMismatch, at: operatorPosition,
                        "type mismatch: '\(truncated(lhs.name))' is text, expected '==', '!=' or 'in', found '\(op)'"
                    )
                }
                let equals = try self.textEquality(lhs, slot: slot, rhs)
                return op == .equal ? equals : .not(equals)
            }
        case .membership(let lhs, let inPosition, let elements):
            guard case .text(let slot) = try self.slot(lhs) else {
                throw RuleError(
                    .typeMismatch, at: inPosition,
                    "type mismatch: 'in' expects a text operand, found numeric operand '\(truncated(lhs.name))'"
                )
            }
            var strings: [String] = []
            for element in elements {
                guard case .string(let text, _) = element else {
                    throw RuleError(
                        .typeMismatch, at: element.position,
                        "type mismatch: '\(truncated(lhs.name))' is text, expected a string, found \(self.kind(of: element))"
                    )
                }
                strings.append(text)
            }
            return .textIn(slot: slot, strings)
        }
    }

    private func resolve(_ terms: [RuleExpression]) throws(RuleError) -> [RuleCondition] {
        var conditions: [RuleCondition] = []
        conditions.reserveCapacity(terms.count)
        for term in terms {
            conditions.append(try self.resolve(term))
        }
        return conditions
    }

    private func numericComparison(
        _ lhs: OperandReference, slot: Int, _ op: ComparisonOperator, _ rhs: RuleValue
    ) throws(RuleError) -> RuleCondition {
        switch rhs {
        case .number(let value, _):
            return .numericConstant(op, slot: slot, value)
        case .operand(let reference):
            if case .numeric(let rhsSlot) = try self.slot(reference) {
                return .numericSlots(op, lhs: slot, rhs: rhsSlot)
            }
        case .string:
            break
        }
        throw RuleError(
            .typeMismatch, at: rhs.position,
            "type mismatch: '\(truncated(lhs.name))' is numeric, expected a number or a numeric operand, found \(self.kind(of: rhs))"
        )
    }

    private func textEquality(_ lhs: OperandReference, slot: Int, _ rhs: RuleValue) throws(RuleError) -> RuleCondition {
        switch rhs {
        case .string(let value, _):
            return .textIn(slot: slot, [value])
        case .operand(let reference):
            if case .text(let rhsSlot) = try self.slot(reference) {
                return .textEqualsSlot(lhs: slot, rhs: rhsSlot)
            }
        case .number:
            break
        }
        throw RuleError(
            .typeMismatch, at: rhs.position,
            "type mismatch: '\(truncated(lhs.name))' is text, expected a string or a text operand, found \(self.kind(of: rhs))"
        )
    }

    private func slot(_ reference: OperandReference) throws(RuleError) -> OperandSlot {
        if let slot = self.schema.slot(named: reference.name) {
            return slot
        }
        var message = "unknown operand '\(truncated(reference.name))'"
        if let suggestion = self.schema.suggestion(for: reference.name) {
            message += ", did you mean '\(suggestion)'?"
        }
        throw RuleError(.unknownOperand, at: reference.position, message)
    }

    /// How a type-mismatch message names a value; only called for values already found to be in the schema or literals.
    private func kind(of value: RuleValue) -> String {
        switch value {
        case .number: "a number"
        case .string: "a string"
        case .operand(let reference):
            switch self.schema.slot(named: reference.name) {
            case .numeric?: "numeric operand '\(truncated(reference.name))'"
            case .text?, nil: "text operand '\(truncated(reference.name))'"
            }
        }
    }
}
