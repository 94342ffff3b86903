import NIOCore
import Foundation
import VigilDomain
import VigilSimulation

/// The request bodies of a run: every row of a simulated history as the JSON of `POST /v1/payments/score`, so the
/// server's feature state sees realistic cardinality (many debtors, repeat payees, mules), not one payment repeated.
///
/// A row becomes JSON by the rule of `Tests/blackbox/skew.py` (`unflatten`): a dotted column name is a path of
/// nested objects, an empty cell is left out, every value is a string. The row keeps its own `createdAt`.
public struct PaymentPopulation: Sendable {
    /// Each row's own payment id.
    let ids: [[UInt8]]
    /// Each row's JSON after the `paymentId` member: `,"perspective":…}`.
    let rests: [[UInt8]]

    /// The number of distinct simulated payments; a run that needs more cycles through them.
    public var count: Int { ids.count }

    /// Simulates `payments` payments from `seed` in a temporary directory (removed afterwards) and reads them.
    /// - Throws: `BenchError` with code `payments` when the simulation or the file fails.
    public static func simulated(seed: UInt64, payments: Int) throws(BenchError) -> PaymentPopulation {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-bench-\(UInt32.random(in: .min ... .max))").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BenchError(code: .payments, message: "cannot create a temporary directory for the payments")
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try simulate(
                SimulationConfiguration(seed: seed, payments: payments),
                historyTo: directory + "/history.csv", labelsTo: directory + "/labels.csv"
            )
        } catch {
            throw BenchError(code: .payments, message: "cannot simulate the payments: \(error.message)")
        }
        guard let data = FileManager.default.contents(atPath: directory + "/history.csv") else {
            throw BenchError(code: .payments, message: "cannot read the simulated history")
        }
        return try PaymentPopulation(historyCSV: Array(data))
    }

    /// Reads a history file in the format of docs/data-formats.md (a header naming dotted columns, one of them
    /// `paymentId`).
    /// - Throws: `BenchError` with code `payments` when the file is malformed or has no rows.
    public init(historyCSV bytes: [UInt8]) throws(BenchError) {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next()?.fields, let idColumn = header.firstIndex(of: "paymentId") else {
            throw BenchError(code: .payments, message: "the history has no header with a paymentId column")
        }
        let paths = header.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        let uetrColumn = header.firstIndex(of: "uetr")
        var ids: [[UInt8]] = []
        var rests: [[UInt8]] = []
        while let record = records.next() {
            guard record.fields.count == header.count, !record.fields[idColumn].isEmpty else { continue }
            var members: [(path: ArraySlice<String>, value: String)] = []
            // Every request carries a UETR of its own (`writeBody`), so the history's own `uetr` column is left out.
            for (column, cell) in record.fields.enumerated() where column != idColumn && column != uetrColumn && !cell.isEmpty {
                members.append((paths[column][...], cell))
            }
            var rest: [UInt8] = []
            for (key, node) in PaymentPopulation.group(members) {
                rest.append(UInt8(ascii: ","))
                PaymentPopulation.append(key: key, node: node, to: &rest)
            }
            rest.append(UInt8(ascii: "}"))
            ids.append(Array(record.fields[idColumn].utf8))
            rests.append(rest)
        }
        if let malformed = records.malformed {
            throw BenchError(code: .payments, message: "the history is malformed: \(malformed)")
        }
        guard !ids.isEmpty else { throw BenchError(code: .payments, message: "the history has no payments") }
        self.ids = ids
        self.rests = rests
    }

    /// Writes the body of request number `sequence`: row `sequence % count`, with the payment id made unique by
    /// the run's `suffix` and, after the first pass through the rows, the pass number, and a UETR of its own. A row
    /// sent again keeps its accounts, amount and `createdAt`, which alone would make it the same payment to the
    /// consortium (counted once): the UETR makes every request a payment of its own, as in real traffic.
    /// - Performance: two copies of pre-rendered bytes, one decimal number and 32 hex digits; no JSON encoding.
    func writeBody(sequence: Int, suffix: [UInt8], into buffer: inout ByteBuffer) {
        let row = sequence % ids.count
        let pass = sequence / ids.count
        buffer.writeStaticString("{\"paymentId\":\"")
        buffer.writeBytes(ids[row])
        buffer.writeBytes(suffix)
        if pass > 0 {
            buffer.writeStaticString("-")
            buffer.writeString(String(pass))
        }
        buffer.writeStaticString("\",\"uetr\":\"")
        Self.writeUETR(run: suffix, sequence: sequence, into: &buffer)
        buffer.writeStaticString("\"")
        buffer.writeBytes(rests[row])
    }

    /// A version-4-shaped UUID from the run's suffix and the request's sequence: distinct for every request of every
    /// run.
    static func writeUETR(run suffix: [UInt8], sequence: Int, into buffer: inout ByteBuffer) {
        var high: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in suffix { high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let low = UInt64(truncatingIfNeeded: sequence)
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 36)
        var position = 0
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                if [8, 13, 18, 23].contains(position) {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                var value = Int(word >> UInt64(60 - 4 * nibble) & 0xF)
                if index == 0, nibble == 12 { value = 4 }
                if index == 1, nibble == 0 { value = 8 | (value & 3) }
                text[position] = digits[value]
                position += 1
            }
        }
        buffer.writeBytes(text)
    }

    /// The largest body, for sizing buffers.
    var largestBody: Int { (rests.map(\.count).max() ?? 0) + (ids.map(\.count).max() ?? 0) + 64 }

    private enum Node {
        case value(String)
        case object([(String, Node)])
    }

    /// Groups dotted paths into nested objects, keeping the columns' order.
    private static func group(_ members: [(path: ArraySlice<String>, value: String)]) -> [(String, Node)] {
        var order: [String] = []
        var leaves: [String: String] = [:]
        var children: [String: [(path: ArraySlice<String>, value: String)]] = [:]
        for member in members {
            guard let key = member.path.first else { continue }
            if leaves[key] == nil, children[key] == nil { order.append(key) }
            if member.path.count == 1 {
                leaves[key] = member.value
            } else {
                children[key, default: []].append((member.path.dropFirst(), member.value))
            }
        }
        return order.map { key in
            if let value = leaves[key] { return (key, .value(value)) }
            return (key, .object(group(children[key] ?? [])))
        }
    }

    private static func append(key: String, node: Node, to out: inout [UInt8]) {
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        switch node {
        case .value(let text):
            appendString(text, to: &out)
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (childKey, child)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                append(key: childKey, node: child, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
