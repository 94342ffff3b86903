import Foundation
import VigilDomain
import VigilSimulation

/// A simulation written to a temporary directory and read back as CSV.
struct SimulatedFiles: Sendable {
    let configuration: SimulationConfiguration
    let summary: SimulationSummary
    let historyBytes: [UInt8]
    let labelsBytes: [UInt8]
    let header: [String]
    let rows: [[String]]
    let labelRows: [[String]]
    /// The daily files by path under `files/` (`natwest/status.2026-03-06.csv`, `directory.2026-03-06.csv`).
    let daily: [String: [UInt8]]

    init(seed: UInt64, payments: Int) throws {
        let directory = NSTemporaryDirectory() + "vigil-sim-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        configuration = SimulationConfiguration(seed: seed, payments: payments)
        summary = try simulate(
            configuration, historyTo: directory + "/history.csv", labelsTo: directory + "/labels.csv",
            dailyFilesTo: directory + "/files"
        )
        var daily: [String: [UInt8]] = [:]
        let root = directory + "/files"
        for path in try FileManager.default.subpathsOfDirectory(atPath: root) where path.hasSuffix(".csv") {
            daily[path] = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + path)))
        }
        self.daily = daily
        historyBytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/history.csv")))
        labelsBytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/labels.csv")))
        let history = CSV.parse(historyBytes)
        header = history[0]
        rows = Array(history.dropFirst())
        labelRows = Array(CSV.parse(labelsBytes).dropFirst())
    }

    func column(_ name: String) -> Int { header.firstIndex(of: name)! }

    /// The row as the API's JSON body: dotted columns nested, empty cells left out.
    func requestBody(_ row: [String]) -> [UInt8] {
        var body: [String: Any] = [:]
        for (name, value) in zip(header, row) where !value.isEmpty {
            body = SimulatedFiles.setting(body, path: name.split(separator: ".").map(String.init)[...], to: value)
        }
        return Array(try! JSONSerialization.data(withJSONObject: body))
    }

    private static func setting(_ object: [String: Any], path: ArraySlice<String>, to value: String) -> [String: Any] {
        var object = object
        let key = path.first!
        if path.count == 1 {
            object[key] = value
        } else {
            object[key] = setting(object[key] as? [String: Any] ?? [:], path: path.dropFirst(), to: value)
        }
        return object
    }

    /// One account however the row spells it: a GB IBAN folds to its sort code and account number.
    func accountKey(_ row: [String], side: String) -> String {
        let iban = row[column(side + ".account.iban")]
        if iban.hasPrefix("GB") {
            let chars = Array(iban)
            return String(chars[8..<14]) + ":" + String(chars[14..<22])
        }
        if !iban.isEmpty { return iban }
        let sortCode = row[column(side + ".account.sortCode")]
        if !sortCode.isEmpty { return sortCode + ":" + row[column(side + ".account.accountNumber")] }
        return row[column(side + ".account.scheme")] + ":" + row[column(side + ".account.id")]
    }

    /// Fraud type by payment id.
    var labelled: [String: String] {
        Dictionary(uniqueKeysWithValues: labelRows.map { ($0[0], $0[2]) })
    }
}

/// Enough of RFC 4180 to read the simulator's files back.
enum CSV {
    static func parse(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(b)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(b)
                }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field = []
            } else if b == 10 {
                row.append(String(decoding: field, as: UTF8.self))
                rows.append(row)
                row = []
                field = []
            } else {
                field.append(b)
            }
            i += 1
        }
        return rows
    }
}

/// One 50,000-payment run shared by the tests that only read it.
let shared = try! SimulatedFiles(seed: 1, payments: 50_000)
