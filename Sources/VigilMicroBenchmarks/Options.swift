import Foundation

/// The command line: `vigil-microbench [--payments N] [--seconds S] [--debtors N] [--model PATH] [--quick]`.
struct Options {
    /// Payments in the simulated workload.
    var payments = 20_000
    /// How long each stage repeats the workload.
    var seconds = 2.0
    /// Distinct debtor accounts in the feature-state memory workload (`FeatureMemory`).
    var debtors = 1_000_000
    /// An XGBoost JSON model file; nil means the model bundled with VigilEngine.
    var modelPath: String?
    /// A challenger model file: the end-to-end table then also scores with it in the shadow (issue 14).
    var shadowPath: String?

    static let usage = "usage: vigil-microbench [--payments N (default 20000)] [--seconds S per stage (default 2)] [--debtors N (default 1000000)] [--model PATH] [--shadow PATH (a challenger: end to end with and without it)] [--quick]"

    /// Parses the arguments after the program name; `--quick` means 2,000 payments, 0.2 s per stage and 20,000
    /// debtors unless `--payments`, `--seconds` or `--debtors` say otherwise.
    init(parsing arguments: [String]) throws(UsageError) {
        var quick = false
        var payments: Int?
        var seconds: Double?
        var debtors: Int?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick":
                quick = true
            case "--payments":
                guard let value = rest.popFirst().flatMap(Int.init), value >= 10 else { throw UsageError("--payments needs a whole number ≥ 10") }
                payments = value
            case "--seconds":
                guard let value = rest.popFirst().flatMap(Double.init), value > 0 else { throw UsageError("--seconds needs a positive number") }
                seconds = value
            case "--debtors":
                guard let value = rest.popFirst().flatMap(Int.init), (100...100_000_000).contains(value) else {
                    throw UsageError("--debtors needs a whole number from 100 to 100000000")
                }
                debtors = value
            case "--shadow":
                guard let value = rest.popFirst() else { throw UsageError("--shadow needs a path") }
                shadowPath = value
            case "--model":
                guard let value = rest.popFirst() else { throw UsageError("--model needs a path") }
                modelPath = value
            default:
                throw UsageError("unknown argument '\(argument)'")
            }
        }
        self.payments = payments ?? (quick ? 2_000 : 20_000)
        self.seconds = seconds ?? (quick ? 0.2 : 2)
        self.debtors = debtors ?? (quick ? 20_000 : 1_000_000)
    }
}

/// A bad command line, reported with the usage line.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
