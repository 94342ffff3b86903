import VigilDomain

/// One simulation from world-building to the last row: the state the genuine and fraud generators share.
final class SimulationRun {
    let configuration: SimulationConfiguration
    let timeline: Timeline
    var world: World
    /// Payments waiting to be written, by day of the period.
    var buckets: [[PaymentEvent]]
    var labels: [Label] = []
    var unreported = 0
    var nextSequence: UInt32 = 0
    /// Payments queued so far.
    var placedCount = 0
    /// Monthly payments (salary, rent, bills) by local day of the period: customer index and kind.
    var recurringByDay: [[(customer: Int32, kind: RecurringKind)]] = []
    /// Mule accounts and when they are active.
    var campaigns: [MuleCampaign] = []
    /// Devices and IPs fraudsters reuse across victims and mule accounts.
    var fraudDevices: [Int32] = []
    var fraudIPs: [Int32] = []
    /// Mixed into payment ids so different seeds give different ids.
    let idKey: UInt64
    /// The daily files' state while the history is written, when they are asked for.
    var dailyFiles: DailyFiles?

    enum RecurringKind: UInt8 { case salary, rent, bill }

    init(_ configuration: SimulationConfiguration) {
        self.configuration = configuration
        timeline = Timeline(startMillis: configuration.start.epochMillis, days: configuration.days)
        var random = RandomSource(seed: configuration.seed).derived(1)
        world = World(customerCount: configuration.customers, startMillis: timeline.startMillis, random: &random)
        buckets = Array(repeating: [], count: configuration.days)
        idKey = RandomSource.mix(configuration.seed ^ 0x5649_4749_4C53_494D)
    }

    func takeSequence() -> UInt32 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// Queues `event` for writing; false (and nothing queued) when it falls outside the period.
    @discardableResult
    func place(_ event: PaymentEvent) -> Bool {
        guard let day = timeline.bucket(event.millis) else { return false }
        var event = event
        let asking = event.perspective == .sending ? event.debtor : event.creditor
        // Rows are sorted by the time as written, so a bank that writes whole seconds gets whole seconds.
        if !Bank.all[world.accounts[Int(asking)].bank].writesMillis, event.millis - event.millis % 1000 >= timeline.startMillis {
            event.millis -= event.millis % 1000
        }
        buckets[day].append(event)
        placedCount += 1
        return true
    }

    /// Runs the simulation and writes both files, and the daily files under `dailyFilesDirectory` when given.
    func run(
        historyTo historyPath: String, labelsTo labelsPath: String, dailyFilesTo dailyFilesDirectory: String? = nil
    ) throws(SimulationError) -> SimulationSummary {
        let history = try OutputFile(path: historyPath)
        let labelFile = try OutputFile(path: labelsPath)
        let total = configuration.payments
        var fraudRandom = RandomSource(seed: configuration.seed).derived(2)
        planFraud(targetRows: Int((Double(total) * 0.003).rounded()), &fraudRandom)
        var fraudRows = placedCount
        if fraudRows > total / 2 {
            // Too few payments to hold a fraud scenario honestly: a tiny file is all genuine.
            for day in buckets.indices { buckets[day].removeAll() }
            labels.removeAll()
            unreported = 0
            fraudRows = 0
        }
        if dailyFilesDirectory != nil {
            dailyFiles = DailyFiles(world: world, labels: labels, random: RandomSource(seed: configuration.seed).derived(5))
        }
        var recurringRandom = RandomSource(seed: configuration.seed).derived(3)
        let recurringRows = scheduleRecurring(budget: (total - fraudRows) / 5, &recurringRandom)
        let genuineRows = total - fraudRows - recurringRows
        let perDay = Allocation.largestRemainder(
            total: genuineRows, weights: (0..<timeline.days).map { DailyRhythm.weekdayWeights[timeline.weekday(day: $0)] }
        )
        let format = HistoryFormat(world: world, timeline: timeline, idKey: idKey)
        format.writeHeader(history)
        var genuineRandom = RandomSource(seed: configuration.seed).derived(4)
        let chooser = AliasTable(weights: world.customers.map(\.activity))
        var flushed = 0
        var rows = 0
        for day in 0..<timeline.days {
            generateRecurring(day: day, &genuineRandom)
            for _ in 0..<perDay[day] {
                place(genuinePayment(customer: chooser.sample(&genuineRandom), day: day, &genuineRandom))
            }
            // A local day reaches at most two period days back, so older days are complete.
            while flushed < day - 2 {
                rows += flush(day: flushed, format: format, to: history)
                flushed += 1
            }
        }
        while flushed < timeline.days {
            rows += flush(day: flushed, format: format, to: history)
            flushed += 1
        }
        labels.sort { ($0.reportedAtMillis, $0.sequence) < ($1.reportedAtMillis, $1.sequence) }
        format.writeLabels(labels, to: labelFile)
        try history.close()
        try labelFile.close()
        var counts: [FraudType: Int] = [:]
        for label in labels { counts[label.type, default: 0] += 1 }
        var summary = SimulationSummary(
            rows: rows, labelled: counts, unreported: unreported, customers: world.customers.count, days: timeline.days
        )
        if let dailyFilesDirectory, let dailyFiles {
            summary.dailyFiles = try dailyFiles.write(to: dailyFilesDirectory, format: format, timeline: timeline)
        }
        return summary
    }

    private func flush(day: Int, format: HistoryFormat, to file: OutputFile) -> Int {
        buckets[day].sort { ($0.millis, $0.sequence) < ($1.millis, $1.sequence) }
        for event in buckets[day] {
            format.writeRow(event, to: file)
            dailyFiles?.settle(event)
        }
        let count = buckets[day].count
        buckets[day] = []
        return count
    }
}
