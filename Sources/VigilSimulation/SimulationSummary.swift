public import VigilDomain

/// What a simulation wrote.
public struct SimulationSummary: Sendable, Hashable, CustomStringConvertible {
    /// Rows in `history.csv`.
    public var rows: Int
    /// Rows in `labels.csv` by fraud type (one label per reported payment).
    public var labelled: [FraudType: Int]
    /// Fraud payments the simulation made but nobody reported, so they have no label, as in real data.
    public var unreported: Int
    /// Customers simulated.
    public var customers: Int
    /// Days simulated.
    public var days: Int
    /// The daily files written, when they were asked for.
    public var dailyFiles: DailyFilesSummary?

    public init(rows: Int, labelled: [FraudType: Int], unreported: Int, customers: Int, days: Int) {
        self.rows = rows
        self.labelled = labelled
        self.unreported = unreported
        self.customers = customers
        self.days = days
    }

    /// Labelled payments of every type.
    public var fraudRows: Int { labelled.values.reduce(0, +) }

    /// Labelled payments ÷ rows.
    public var fraudRate: Double { rows == 0 ? 0 : Double(fraudRows) / Double(rows) }

    /// One line: rows, labelled rows by type, fraud rate.
    public var description: String {
        let types = FraudType.allCases.map { "\($0.rawValue) \(labelled[$0, default: 0])" }.joined(separator: ", ")
        let percent = (fraudRate * 100_000).rounded() / 1000
        return "\(rows) payments (\(customers) customers, \(days) days), \(fraudRows) labelled fraud (\(types)), "
            + "fraud rate \(percent)%, \(unreported) unreported"
    }
}
