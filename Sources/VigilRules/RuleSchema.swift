/// The operands a rule file may name, and the input slot each one is read from at evaluation.
public struct RuleSchema: Sendable {
    /// `numeric[i]` is the operand whose value is numeric input slot `i`.
    public let numeric: [String]
    /// `text[i]` is the operand whose value is text input slot `i`.
    public let text: [String]
    private let slots: [String: OperandSlot]

    /// numeric[i] is the operand name whose value is numeric input slot i; text likewise.
    ///
    /// - Precondition: No name appears twice across `numeric` and `text`. A schema is built
    ///   by code from feature definitions, so a duplicate is a programming error, not bad input.
    public init(numeric: [String], text: [String]) {
        var slots: [String: OperandSlot] = [:]
        slots.reserveCapacity(numeric.count + text.count)
        for (slot, name) in numeric.enumerated() {
            precondition(slots.updateValue(.numeric(slot), forKey: name) == nil, "operand '\(name)' appears twice in the rule schema")
        }
        for (slot, name) in text.enumerated() {
            precondition(slots.updateValue(.text(slot), forKey: name) == nil, "operand '\(name)' appears twice in the rule schema")
        }
        self.numeric = numeric
        self.text = text
        self.slots = slots
    }

    /// The slot `name` is read from, or `nil` if the schema has no such operand.
    func slot(named name: String) -> OperandSlot? {
        self.slots[name]
    }

    /// The schema operand closest in spelling to `name`, if one is close enough to be a likely typo.
    func suggestion(for name: String) -> String? {
        // Edit distance is quadratic; fuzzed input can carry very long identifiers.
        guard name.utf8.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in self.numeric + self.text where candidate.utf8.count <= 64 {
            let distance = editDistance(Array(name.utf8), Array(candidate.utf8))
            if distance <= 2, distance < name.utf8.count, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }
}

/// Where an operand's value comes from at evaluation.
enum OperandSlot: Hashable, Sendable {
    case numeric(Int)
    case text(Int)
}

/// Levenshtein distance between two byte strings.
private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
