/// The knobs of ``TrainedModel/train(_:validation:parameters:progress:)``, named and defaulted as XGBoost's.
public struct TrainingParameters: Sendable, Equatable {
    /// The depth of every tree (`max_depth`); trees grow level by level.
    public var maxDepth: Int
    /// The shrinkage applied to every leaf (`eta`).
    public var learningRate: Double
    /// The most trees to build (`num_boost_round`).
    public var rounds: Int
    /// The L2 penalty on leaf weights (`lambda`).
    public var lambda: Double
    /// The least hessian sum a child may have (`min_child_weight`).
    public var minChildWeight: Double
    /// The fraction of rows each tree sees, drawn afresh per tree (`subsample`), in (0, 1].
    public var subsample: Double
    /// The fraction of features each tree may split on, drawn afresh per tree (`colsample_bytree`), in (0, 1].
    public var colsampleByTree: Double
    /// The most bins per feature for non-missing values (`max_bin`), 2 to 256; at most 255 are used, so that
    /// a bin index and the missing bin fit in a byte.
    public var maxBins: Int
    /// Stop after this many rounds without a lower validation log-loss and keep the best round's trees;
    /// `nil`, or no validation set, trains all ``rounds``.
    public var earlyStoppingRounds: Int?
    /// Seeds row and column sampling: the same data, parameters and seed give the same model bytes.
    public var seed: UInt64
    /// The most threads training uses; `nil` uses every core. The model does not depend on it.
    public var threads: Int?

    public init(
        maxDepth: Int = 6,
        learningRate: Double = 0.1,
        rounds: Int = 300,
        lambda: Double = 1,
        minChildWeight: Double = 1,
        subsample: Double = 1,
        colsampleByTree: Double = 1,
        maxBins: Int = 256,
        earlyStoppingRounds: Int? = 20,
        seed: UInt64 = 0,
        threads: Int? = nil
    ) {
        self.maxDepth = maxDepth
        self.learningRate = learningRate
        self.rounds = rounds
        self.lambda = lambda
        self.minChildWeight = minChildWeight
        self.subsample = subsample
        self.colsampleByTree = colsampleByTree
        self.maxBins = maxBins
        self.earlyStoppingRounds = earlyStoppingRounds
        self.seed = seed
        self.threads = threads
    }

    func validate() throws(TrainingError) {
        func check(_ condition: Bool, _ message: String) throws(TrainingError) {
            guard condition else {
                throw TrainingError(code: .invalidParameter, message: message)
            }
        }
        try check((1...30).contains(self.maxDepth), "maxDepth is \(self.maxDepth); expected 1 to 30")
        try check(
            self.learningRate > 0 && self.learningRate <= 1,
            "learningRate is \(self.learningRate); expected (0, 1]"
        )
        try check(self.rounds >= 1, "rounds is \(self.rounds); expected at least 1")
        try check(self.lambda >= 0 && self.lambda.isFinite, "lambda is \(self.lambda); expected finite and >= 0")
        try check(
            self.minChildWeight >= 0 && self.minChildWeight.isFinite,
            "minChildWeight is \(self.minChildWeight); expected finite and >= 0"
        )
        try check(self.subsample > 0 && self.subsample <= 1, "subsample is \(self.subsample); expected (0, 1]")
        try check(
            self.colsampleByTree > 0 && self.colsampleByTree <= 1,
            "colsampleByTree is \(self.colsampleByTree); expected (0, 1]"
        )
        try check((2...256).contains(self.maxBins), "maxBins is \(self.maxBins); expected 2 to 256")
        if let rounds = self.earlyStoppingRounds {
            try check(rounds >= 1, "earlyStoppingRounds is \(rounds); expected at least 1")
        }
        if let threads = self.threads {
            try check(threads >= 1, "threads is \(threads); expected at least 1")
        }
    }
}

/// What happened during training, round by round.
public struct TrainingReport: Sendable, Equatable {
    /// The number of trees built, including any that early stopping then dropped.
    public var rounds: Int
    /// The 0-based round whose trees the model keeps: with early stopping the round of the lowest validation
    /// log-loss, otherwise the last round.
    public var bestIteration: Int
    /// The training log-loss after each round (on every training row, sampled or not).
    public var trainLogLoss: [Double]
    /// The validation log-loss after each round; empty without a validation set.
    public var validationLogLoss: [Double]
}
