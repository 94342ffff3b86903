import ArgumentParser
import Foundation
import VigilDomain
import VigilGateway
import VigilISO20022
import VigilSimulation

struct ISO20022Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iso20022",
        abstract: "ISO 20022 messages: write a sample corpus from simulated payments.",
        subcommands: [Sample.self]
    )

    struct Sample: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write ISO 20022 messages (pacs.008, pacs.002, camt.056) rendered from a simulated history.",
            discussion: """
                Simulates payments (as `vigil simulate` does), keeps COUNT × TRANSACTIONS push payments, and writes COUNT messages of \
                TRANSACTIONS transactions each to DIR, named KIND-NNNN.FORMAT: pacs.008 credit transfers of the payments, \
                pacs.002 status reports on them (ACSC, every fifth RJCT AM04) or camt.056 FRAD recalls of them. With \
                --invalid, pacs.008 only, also DIR/invalid/NAME.FORMAT: every hostile XML construct, wrong namespace \
                and version, and each missing mandatory element (docs/iso20022.md). The same arguments write the same files.
                """
        )

        @Option(help: "pacs.008, pacs.002 or camt.056.") var kind: String = "pacs.008"
        @Option(help: "xml or json.") var format: String = "xml"
        @Option(help: "Number of messages.") var count: Int = 1
        @Option(help: "Transactions per message (1–100).") var transactions: Int = 3
        @Option(help: "Random seed of the simulation.") var seed: UInt64 = 1
        @Option(help: "Directory to write to; created when missing.") var out: String
        @Flag(help: "Also write the invalid pacs.008 messages under DIR/invalid.") var invalid = false

        func run() async throws {
            guard let kind = MessageKind(rawValue: kind) else { throw CLIError("--kind must be pacs.008, pacs.002 or camt.056") }
            guard let format = MessageFormat(rawValue: format) else { throw CLIError("--format must be xml or json") }
            guard count > 0 else { throw CLIError("--count must be positive") }
            guard (1...CreditTransfer.maxTransactions).contains(transactions) else {
                throw CLIError("--transactions must be 1 to \(CreditTransfer.maxTransactions)")
            }
            // A pacs.008 is a credit transfer: the history's pull payments are left out, so twice as many are simulated.
            let payments = Array(try Self.simulatedPayments(max(2 * count * transactions, 20), seed: seed).filter { $0.type == .push }.prefix(count * transactions))
            guard payments.count == count * transactions else { throw CLIError("the simulation gave too few push payments; lower --count") }
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } catch {
                throw CLIError("cannot create directory \(out)")
            }
            for index in 0..<count {
                let slice = Array(payments[(index * transactions)..<((index + 1) * transactions)])
                let document = Self.document(kind, slice, number: index + 1)
                let name = String(format: "%@-%04d.%@", kind.rawValue, index + 1, format.rawValue)
                try Self.write(format == .xml ? ISO20022XML.render(document) : ISO20022JSON.render(document), to: out + "/" + name)
            }
            var written = "\(count) \(kind.rawValue) message(s) of \(transactions) transaction(s) in \(out)"
            if invalid {
                let valid = Self.document(.pacs008, Array(payments.prefix(max(2, min(transactions, payments.count)))), number: 0)
                guard valid.message.children("CdtTrfTxInf").count >= 2 else { throw CLIError("--invalid needs at least 2 payments") }
                try? FileManager.default.createDirectory(atPath: out + "/invalid", withIntermediateDirectories: true)
                let cases = ISO20022Corpus.invalidCreditTransfers(from: valid)
                for invalidCase in cases {
                    try Self.write(invalidCase.body, to: out + "/invalid/" + invalidCase.name + "." + invalidCase.format.rawValue)
                }
                written += ", \(cases.count) invalid in \(out)/invalid"
            }
            print(written)
        }

        /// The message of `kind` about `payments`, timed at the last payment.
        static func document(_ kind: MessageKind, _ payments: [PaymentRequest], number: Int) -> ISO20022Document {
            let at = payments.map(\.createdAt).max { $0.epochMillis < $1.epochMillis } ?? Instant(epochMillis: 0)
            let id = String(format: "VIGIL-SAMPLE-%06d", number)
            switch kind {
            case .pacs008:
                return ISO20022Corpus.creditTransfer(payments, messageId: id, createdAt: at)
            case .pacs002:
                let statuses = payments.enumerated().map { index, payment in
                    (uetr: payment.uetr, endToEndId: payment.paymentId, status: index % 5 == 4 ? "RJCT" : "ACSC", reason: index % 5 == 4 ? "AM04" : nil)
                }
                return ISO20022Corpus.statusReport(statuses, messageId: id, createdAt: at)
            case .camt056:
                return ISO20022Corpus.cancellationRequest(payments, id: id, createdAt: at)
            }
        }

        /// `count` payments of a simulation with `seed`, read back as the API reads them.
        static func simulatedPayments(_ count: Int, seed: UInt64) throws -> [PaymentRequest] {
            let directory = NSTemporaryDirectory() + "vigil-iso20022-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                _ = try simulate(
                    SimulationConfiguration(seed: seed, payments: count), historyTo: directory + "/history.csv", labelsTo: directory + "/labels.csv"
                )
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/history.csv")))
                return try HistoryReader().read(bytes).rows.map(\.request)
            } catch let error as SimulationError {
                throw CLIError(error.message)
            } catch let error as FileError {
                throw CLIError("cannot read the simulated history: \(error.description)")
            } catch {
                throw CLIError("cannot simulate into \(directory)")
            }
        }

        static func write(_ bytes: [UInt8], to path: String) throws {
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CLIError("cannot write \(path)") }
        }
    }
}
