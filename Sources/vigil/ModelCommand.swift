import ArgumentParser
import Foundation
import VigilDomain
import VigilTrees

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Work with tree models: predict offline; deploy, list and retire the models servers score with; monitor and compare them.",
        subcommands: [Predict.self, Deploy.self, List.self, Retire.self, Monitor.self, Compare.self]
    )

    struct Predict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one probability per CSV row, in row order.",
            discussion: """
                The CSV header names the columns. Columns are matched to the model's feature names, or to f0…fN-1 when \
                the model has none; other columns are ignored. An empty cell is a missing value.
                """
        )

        @Option(help: "XGBoost JSON model.") var model: String
        @Option(help: "CSV file with a header row.") var input: String

        func run() async throws {
            guard let modelData = FileManager.default.contents(atPath: model) else { throw CLIError("cannot read model \(model)") }
            let ensemble: TreeEnsemble
            do {
                ensemble = try TreeEnsemble(xgboostJSON: Array(modelData))
            } catch {
                throw CLIError("\(model): \(error)")
            }
            var records = CSVReader(bytes: try readFile(input)).makeIterator()
            guard let header = records.next() else { throw CLIError("\(input) is empty; it needs a header row") }
            let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            let names = ensemble.featureNames.isEmpty ? (0..<ensemble.featureCount).map { "f\($0)" } : ensemble.featureNames
            var sources: [Int] = []
            for name in names {
                guard let index = columns.firstIndex(of: name) else {
                    throw CLIError("\(input): the header has no column '\(name)', which the model needs")
                }
                sources.append(index)
            }
            var row = [Float](repeating: .nan, count: ensemble.featureCount)
            var output = ""
            while let record = records.next() {
                if record.fields.count == 1, record.fields[0].isEmpty { continue }
                guard record.fields.count == columns.count else {
                    throw CLIError("\(input) line \(record.line): \(record.fields.count) cells, the header has \(columns.count)")
                }
                for (feature, source) in sources.enumerated() {
                    let cell = record.fields[source].trimmingCharacters(in: .whitespaces)
                    if cell.isEmpty {
                        row[feature] = .nan
                    } else if let value = Float(cell) {
                        row[feature] = value
                    } else {
                        throw CLIError("\(input) line \(record.line), column '\(columns[source])': not a number")
                    }
                }
                let p = row.withUnsafeBufferPointer { ensemble.probability($0) }
                output += "\(p)\n"
                if output.utf8.count > 1 << 16 {
                    try StandardOutput.print(output)
                    output = ""
                }
            }
            if let malformed = records.malformed { throw CLIError("\(input) \(malformed)") }
            try StandardOutput.print(output)
        }
    }
}
