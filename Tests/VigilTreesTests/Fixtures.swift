import Foundation
import VigilTrees

/// The XGBoost model in `Fixtures/` and the predictions XGBoost made with it.
enum Fixtures {
    struct ParityRow: Sendable {
        var line: Int
        /// NaN where the CSV cell is empty.
        var features: [Float]
        var margin: Double
        var probability: Double
    }

    struct MissingFixture: Error {
        var name: String
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw MissingFixture(name: name)
        }
        return Array(try Data(contentsOf: url))
    }

    /// Loaded once: the debug-build parse is the slowest part of the suite.
    static let model = Result { () throws -> TreeEnsemble in
        try TreeEnsemble(xgboostJSON: try Self.bytes("model.json"))
    }

    static let parityRows = Result { () throws -> [ParityRow] in
        let text = String(decoding: try Self.bytes("parity.csv"), as: UTF8.self)
        // The CSV has CRLF line ends, which Swift reads as one newline Character.
        var lines = text.split(whereSeparator: \.isNewline)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false)
        return try lines.enumerated().map { (offset, line) throws -> ParityRow in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count, let margin = Double(cells[cells.count - 2]),
                let probability = Double(cells[cells.count - 1])
            else {
                throw MissingFixture(name: "parity.csv line \(offset + 2)")
            }
            let features = try cells.dropLast(2).map { cell throws -> Float in
                if cell.isEmpty {
                    return .nan
                }
                guard let value = Float(cell) else {
                    throw MissingFixture(name: "parity.csv line \(offset + 2)")
                }
                return value
            }
            return ParityRow(line: offset + 2, features: features, margin: margin, probability: probability)
        }
    }
}

extension TreeEnsemble {
    func margin(_ features: [Float]) -> Double {
        features.withUnsafeBufferPointer { self.margin($0) }
    }

    func probability(_ features: [Float]) -> Double {
        features.withUnsafeBufferPointer { self.probability($0) }
    }

    /// The bias and the per-feature contributions.
    func contributions(_ features: [Float]) -> (bias: Double, contributions: [Double]) {
        var contributions = [Double](repeating: .nan, count: self.featureCount)
        let bias = features.withUnsafeBufferPointer { features in
            contributions.withUnsafeMutableBufferPointer { self.contributions(features, into: $0) }
        }
        return (bias, contributions)
    }
}
