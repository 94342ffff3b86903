/// What one rule did over the held-out period: the payments it fired on, and how many of them were fraud.
public struct RuleHits: Sendable, Hashable {
    public let name: String
    /// Payments the rule fired on.
    public let hits: Int
    /// Frauds among them.
    public let fraudHits: Int
    /// fraudHits ÷ hits; `nil` when the rule never fired.
    public let precision: Double?
    /// fraudHits ÷ all frauds; `nil` when there was no fraud.
    public let recall: Double?

    /// One entry per name in `ruleNames`, in that order, then any other rule that fired, by name.
    static func tally(_ examples: [ScoredExample], ruleNames: [String], frauds: Int) -> [RuleHits] {
        var hits: [String: (all: Int, fraud: Int)] = [:]
        for example in examples {
            // A rule is counted once per payment, however often its name appears.
            for name in Set(example.rules) {
                hits[name, default: (0, 0)].all += 1
                if example.isFraud { hits[name, default: (0, 0)].fraud += 1 }
            }
        }
        let known = Set(ruleNames)
        let names = ruleNames + hits.keys.filter { !known.contains($0) }.sorted()
        return names.map { name in
            let (all, fraud) = hits[name] ?? (0, 0)
            return RuleHits(
                name: name, hits: all, fraudHits: fraud, precision: all == 0 ? nil : Double(fraud) / Double(all),
                recall: frauds == 0 ? nil : Double(fraud) / Double(frauds)
            )
        }
    }
}
