// Feeds rule text to `TenantPolicy.compileRules`, the entry the server uses for a tenant's rules.
//
// A `RuleError` is the expected outcome for bad input; a crash, trap, sanitizer report or hang is a finding.
// Beyond not crashing, each input checks what the rule language promises:
// - an error's line and column lie inside the input (column counted in Unicode scalars, one past the end of
//   its line allowed), its message is non-empty and stays short whatever the input;
// - a compiled rule set evaluates without trapping on missing (NaN), zero and extreme inputs, reports rules
//   in file order, each at most once, and every rule's line is a line of the input.
import VigilEngine
import VigilRules

/// The longest error message allowed, in UTF-8 bytes: names are truncated so messages stay readable.
let longestMessage = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    // Tenant rules reach the compiler as a `String` decoded from tenants.json, so always valid Unicode.
    let source = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    // Lines end at each U+000A, as the lexer counts them; split on scalars, since "\r\n" is one `Character`.
    let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
    do {
        let rules = try TenantPolicy.compileRules(source)
        for rule in rules.rules {
            guard (1...lines.count).contains(rule.line) else {
                fatalError("rule \(rule.name.debugDescription) on line \(rule.line) of a \(lines.count)-line file")
            }
        }
        evaluate(rules)
    } catch {
        guard (1...lines.count).contains(error.line) else {
            fatalError("error on line \(error.line) of a \(lines.count)-line file: \(error)")
        }
        let columns = lines[error.line - 1].count
        guard (1...columns + 1).contains(error.column) else {
            fatalError("error at column \(error.column) of a \(columns)-scalar line: \(error)")
        }
        guard !error.message.isEmpty, error.message.utf8.count <= longestMessage else {
            fatalError("error message of \(error.message.utf8.count) bytes: \(error)")
        }
    }
    return 0
}

func evaluate(_ rules: RuleSet) {
    let schema = TenantPolicy.ruleSchema
    let numericInputs: [Double] = [.nan, 0, -1, 1, .infinity, -.infinity, .greatestFiniteMagnitude]
    let textInputs = ["", "GBP", "sending", "\u{0}"]
    for number in numericInputs {
        for text in textInputs {
            let numeric = [Double](repeating: number, count: schema.numeric.count)
            let texts = [String](repeating: text, count: schema.text.count)
            var last = -1
            numeric.withUnsafeBufferPointer { numeric in
                texts.withUnsafeBufferPointer { texts in
                    rules.evaluate(numeric: numeric, text: texts) { index in
                        guard index > last, index < rules.rules.count else {
                            fatalError("rule \(index) fired after rule \(last), of \(rules.rules.count) rules")
                        }
                        last = index
                    }
                }
            }
        }
    }
}
