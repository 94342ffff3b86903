import ArgumentParser
import Foundation
import VigilDomain
import VigilOffline
import VigilTraining

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a gradient-boosted tree model (XGBoost JSON) on a history or a `vigil features` file.",
        discussion: """
            The last --validation-fraction of the data's time span is held out: it drives early stopping and the \
            calibration that maps probabilities to the 0–999 score (stored in the model file's attributes as \
            vigil_calibration). With --until, only payments created before that instant are used, and only the \
            reports known by then count as fraud (unless --label-cutoff says otherwise); --label-maturity N also \
            leaves out the last N days before it (default \(TrainCommand.defaultLabelMaturity)), whose frauds have mostly not been \
            reported yet: a model trained on them learns that recent fraud looks genuine. Training stops with an \
            error, writing nothing, when the training period holds fewer than \(TrainingGuardrails.minimumTrainingPositives) \
            frauds or the validation period fewer than \(TrainingGuardrails.minimumValidationPositives), and when the \
            trained model gives every validation payment the same probability. The calibration is isotonic (in logit \
            space, strictly increasing) with at least \(Calibration.isotonicMinimumPositives) validation frauds, \
            Platt scaling with fewer.
            """
    )

    @OptionGroup var files: FileOptions
    @Option(help: "A `vigil features` file, instead of --history and --labels.") var features: String?
    @Option(help: "Where to write the model (XGBoost JSON).") var out: String
    @Option(help: "Train on payments created before this instant (RFC 3339 or YYYY-MM-DD).") var until: String?
    @Option(name: .customLong("label-cutoff"), help: "Reports made after this do not count (default: --until).") var labelCutoff: String?
    @Option(
        name: .customLong("label-maturity"),
        help: "With --until: leave out the last N days before it, whose reports have not come in yet (default \(TrainCommand.defaultLabelMaturity); 0 keeps them)."
    ) var labelMaturity: Int?
    @Option(help: "Boosting rounds.") var rounds: Int = 300
    @Option(help: "Tree depth.") var depth: Int = 6
    @Option(name: .customLong("learning-rate"), help: "Shrinkage per tree.") var learningRate: Double = 0.1
    @Option(help: "L2 regularisation of leaf weights.") var lambda: Double = 1
    @Option(name: .customLong("min-child-weight"), help: "Minimum hessian per leaf.") var minChildWeight: Double = 1
    @Option(help: "Row subsampling per tree.") var subsample: Double = 1
    @Option(help: "Column subsampling per tree.") var colsample: Double = 1
    @Option(name: .customLong("early-stopping"), help: "Stop after this many rounds without validation improvement (0: never).") var earlyStopping: Int = 20
    @Option(help: "Random seed (runs are deterministic).") var seed: UInt64 = 0
    @Option(name: .customLong("validation-fraction"), help: "Share of the time span held out for validation.") var validationFraction: Double = 0.2
    @Option(help: "Threads to train on (default: every core); the model is the same for any number.") var threads: Int?

    /// Days of reports to wait for before `--until` when `--label-maturity` is not given: most simulated frauds are
    /// reported within two weeks, but investment and romance scams take up to 45 days.
    static let defaultLabelMaturity = 30

    func run() async throws {
        guard (0.01...0.9).contains(validationFraction) else { throw CLIError("--validation-fraction must be between 0.01 and 0.9") }
        guard (threads ?? 1) >= 1 else { throw CLIError("--threads must be 1 or more") }
        let table: FeatureTable
        var maturityNote = ""
        if let features {
            guard files.history == nil, files.labels == nil, files.labelColumn == nil, files.dailyFiles == nil else {
                throw CLIError("give either --features or --history/--labels (and --files), not both")
            }
            let (read, summary) = try FeatureTable.read(try readFile(features))
            printError((summary.report(name: features).utf8))
            table = read
        } else {
            guard (labelMaturity ?? 0) >= 0 else { throw CLIError("--label-maturity must be 0 or more days") }
            let asOf = try until.map { try parseDate($0, option: "--until") }
            guard asOf != nil || labelMaturity == nil else { throw CLIError("--label-maturity needs --until") }
            let cutoff = try labelCutoff.map { try parseDate($0, option: "--label-cutoff") } ?? asOf
            let maturity = labelMaturity ?? Self.defaultLabelMaturity
            let limit = asOf.map { Instant(epochMillis: $0.epochMillis - Int64(maturity) * 86_400_000) }
            if let limit, maturity > 0 { maturityNote = " (payments created from \(limit.rfc3339UTC) on were left out by --label-maturity \(maturity))" }
            if let limit, labelMaturity == nil {
                printError((
                    ("train: --label-maturity \(maturity) (the default): training on payments created before "
                        + "\(limit.rfc3339UTC), whose fraud has had \(maturity) days to be reported\n").utf8
                ))
            }
            let replay = HistoryReplay(gateway: try HistoryReplay.gateway(dataDirectory: files.dataDir))
            let rows = try files.readHistory()
            let (reference, tenantOf) = try await files.reference(gateway: replay.gateway, tenant: nil)
            table = try await FeatureTable.replaying(
                rows, labels: try files.readLabels(history: rows), until: limit, labelCutoff: cutoff, replay: replay, reference: reference, tenantOf: tenantOf
            ).table
        }
        let (trainRows, validationRows) = table.splitByTime(validationFraction: validationFraction)
        guard trainRows.rows > 0, validationRows.rows > 0 else {
            throw CLIError("need payments on both sides of the time split; found \(trainRows.rows) for training and \(validationRows.rows) for validation\(maturityNote)")
        }
        guard trainRows.labels.contains(0) else {
            throw CLIError("the training period needs genuine payments too (found only frauds, \(trainRows.rows))")
        }
        do {
            try TrainingGuardrails.checkSplit(
                trainingRows: trainRows.rows, trainingPositives: Int(trainRows.labels.reduce(0, +)),
                validationRows: validationRows.rows, validationPositives: Int(validationRows.labels.reduce(0, +))
            )
        } catch {
            throw CLIError(error.message + maturityNote + "; " + Self.tooFewFraudsAdvice(features: features != nil))
        }
        let parameters = TrainingParameters(
            maxDepth: depth, learningRate: learningRate, rounds: rounds, lambda: lambda, minChildWeight: minChildWeight,
            subsample: subsample, colsampleByTree: colsample, earlyStoppingRounds: earlyStopping > 0 ? earlyStopping : nil, seed: seed,
            threads: threads
        )
        let started = ContinuousClock.now
        let (trainSet, validationSet) = (try Self.set(trainRows), try Self.set(validationRows))
        let (trainingStarted, trainingCPU) = (ContinuousClock.now, Self.processCPUSeconds())
        let (model, report) = try TrainedModel.train(
            trainSet, validation: validationSet, parameters: parameters,
            progress: { printError((($0 + "\n").utf8)) }
        )
        // The trainer alone, without reading, calibrating or writing: what scripts/bench_train.py compares.
        printError((
            ("training: \(report.rounds) trees in "
                + String(format: "%.2f s CPU, ", Self.processCPUSeconds() - trainingCPU)
                + "\(Self.seconds(ContinuousClock.now - trainingStarted)) (threads: \(threads.map(String.init) ?? "every core"))\n").utf8
        ))
        let probabilities = validationRows.rowsOfValues.map { row in row.withUnsafeBufferPointer { model.probability($0) } }
        do {
            try TrainingGuardrails.checkPredictions(probabilities)
        } catch {
            throw CLIError(error.message + "; check that the features vary, or lower --min-child-weight")
        }
        let calibration = try Calibration.fit(probabilities: probabilities, labels: validationRows.labels)
        let profile = Self.profile(validationRows, probabilities: probabilities, calibration: calibration)
        try writeFile(model.xgboostJSON(attributes: ["vigil_calibration": calibration.encoded, TrainingProfile.attributeName: profile.encoded]), to: out)
        let auc = Metrics.rocAUC(scores: probabilities, labels: validationRows.labels)
        print(
            "train: \(trainRows.rows) rows (\(Int(trainRows.labels.reduce(0, +))) fraud), validation \(validationRows.rows) rows "
                + "(\(Int(validationRows.labels.reduce(0, +))) fraud); \(report.bestIteration + 1) of \(report.rounds) trees kept; "
                + "validation ROC-AUC \(String(format: "%.4f", auc)); calibration \(calibration.method.rawValue); \(Self.seconds(ContinuousClock.now - started)); wrote \(out)"
        )
    }

    /// What to change when a period holds too few frauds: usually its newest payments, whose fraud has not been
    /// reported yet.
    static func tooFewFraudsAdvice(features: Bool) -> String {
        let history = "use an earlier --until or a longer --label-maturity, so that the fraud in both periods has been "
            + "reported, or a larger --validation-fraction"
        guard features else { return history }
        return "leave the newest payments, whose fraud has not been reported yet, out of the features file, or use a "
            + "larger --validation-fraction (with --history, train does the first with --until and --label-maturity: "
            + history + ")"
    }

    /// `22.6 s`: a duration for people, to a tenth of a second.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f s", Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// CPU seconds this process has used, on every thread.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func set(_ table: FeatureTable) throws -> TrainingSet {
        try TrainingSet(featureNames: table.featureNames, rows: table.rows, values: table.values, labels: table.labels)
    }
}

extension FeatureTable {
    /// Each row's values as its own array.
    var rowsOfValues: [[Float]] {
        let width = featureNames.count
        return (0..<rows).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }
}
