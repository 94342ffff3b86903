import Foundation
import VigilDomain
import VigilGateway
import VigilProtection
import VigilSimulation

/// The payments every stage runs over: one simulated history, in time order, in the three forms the
/// per-payment path sees it — the HTTP request body, the validated request and the tokenised payment.
struct Workload {
    /// Each payment as the JSON body a bank would post (the history's columns unflattened).
    let bodies: [[UInt8]]
    /// Each payment as `HistoryReader` validated it (the API's own field reader).
    let requests: [PaymentRequest]
    /// Each request tokenised and sealed by `gateway`.
    let payments: [TokenizedPayment]
    /// The gateway whose keys tokenised `payments`: throwaway keys in a temporary directory.
    let gateway: Gateway
    /// The simulated period. Pass `k` of the workload is shifted `k` periods later, so repeating it
    /// continues the same customers' history at the same density instead of doubling it.
    let periodMillis: Int64
    let days: Int

    /// Simulates `count` payments (seed 1) into `directory` and reads them back.
    static func make(payments count: Int, in directory: String) throws -> Workload {
        let history = directory + "/history.csv"
        let configuration = SimulationConfiguration(seed: 1, payments: count)
        _ = try simulate(configuration, historyTo: history, labelsTo: directory + "/labels.csv")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: history)))
        let (rows, summary) = try HistoryReader().read(bytes)
        guard summary.rejectedCount == 0 else { throw WorkloadError("the simulated history has rejected rows:\n\(summary.report(name: "history"))") }
        let bodiesByLine = try requestBodies(csv: bytes)

        let keys = directory + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let gateway = Gateway(keys: try KeyRing.open(directory: keys, provider: FileKeyProvider(path: keys + "/master.key")))
        return Workload(
            bodies: try rows.map { row in
                guard let body = bodiesByLine[row.line] else { throw WorkloadError("no request body for history line \(row.line)") }
                return body
            },
            requests: rows.map(\.request),
            payments: rows.map { gateway.tokenize($0.request) },
            gateway: gateway,
            periodMillis: Int64(configuration.days) * 86_400_000,
            days: configuration.days
        )
    }

    /// Pass `pass` of the tokenised workload: every time moved `pass` periods on and, after the first pass,
    /// every payment id suffixed with `~pass` so the duplicate check sees new payments.
    func payments(pass: Int) -> [TokenizedPayment] {
        guard pass > 0 else { return payments }
        let shift = Int64(pass) * periodMillis
        return payments.map { original in
            var payment = original
            payment.paymentId += "~\(pass)"
            payment.createdAt.epochMillis += shift
            payment.payeeFirstSeenAt?.epochMillis += shift
            return payment
        }
    }

    /// The history's rows as API request bodies, keyed by CSV line: dotted column names become nested
    /// objects and empty cells are left out, exactly as `Tests/blackbox/skew.py` (`unflatten`) posts them.
    static func requestBodies(csv bytes: [UInt8]) throws -> [Int: [UInt8]] {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next() else { throw WorkloadError("the simulated history is empty") }
        let paths = header.fields.map { $0.split(separator: ".").map(String.init) }
        var bodies: [Int: [UInt8]] = [:]
        while let record = records.next(), record.fields.count == paths.count {
            var body: [String: Any] = [:]
            for (path, cell) in zip(paths, record.fields) where !cell.isEmpty {
                insert(cell, at: path[...], into: &body)
            }
            bodies[record.line] = Array(try JSONSerialization.data(withJSONObject: body))
        }
        return bodies
    }

    private static func insert(_ value: String, at path: ArraySlice<String>, into object: inout [String: Any]) {
        guard let head = path.first else { return }
        guard path.count > 1 else {
            object[head] = value
            return
        }
        var inner = object[head] as? [String: Any] ?? [:]
        insert(value, at: path.dropFirst(), into: &inner)
        object[head] = inner
    }
}

/// The workload could not be built.
struct WorkloadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
