import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilEventLog
import VigilServer

/// Snapshots through the server: written at graceful shutdown, loaded at start, skipped when damaged.
@Suite(.timeLimit(.minutes(3)))
struct SnapshotRecoveryTests {
    static func configure(_ configuration: inout VigilConfiguration) {
        configuration.eventLogSegmentBytes = 64 << 10
    }

    /// Scores `count` payments with ids `prefix0`… and returns their answers by id.
    static func score(_ count: Int, prefix: String, in dir: String, logs: LogCapture = LogCapture()) async throws -> [String: [String: Any]] {
        try await withVigil(dataDirectory: dir, logs: logs, configure: configure) { client, key in
            var answers: [String: String] = [:]
            for i in 0..<count {
                let body = paymentBody(id: "\(prefix)\(i)", amount: "\(100 + i).00", debtorName: "Debtor \(i % 4)")
                answers["\(prefix)\(i)"] = try await post(client, key, body)
            }
            return answers
        }.mapValues(parse)
    }

    static func post(_ client: any TestClientProtocol, _ key: String, _ body: [String: Any]) async throws -> String {
        try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) {
            String(buffer: $0.body)
        }
    }

    static func parse(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The number of events the last "Recovery finished" line says were replayed, and the snapshot it started from.
    static func recovery(_ logs: LogCapture) -> (events: Int, snapshot: String)? {
        guard let line = logs.text.split(separator: "\n").last(where: { $0.contains("Recovery finished") }) else { return nil }
        func value(_ key: String) -> String? {
            guard let range = line.range(of: "\"\(key)\": ") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "," && $0 != "]" })
        }
        guard let events = value("vigil.recovery.events").flatMap({ Int($0) }), let snapshot = value("vigil.recovery.snapshot") else { return nil }
        return (events, snapshot)
    }

    /// A restart after a graceful shutdown loads the snapshot written at shutdown and replays nothing; it answers a
    /// retry as a duplicate with the original answer, and a new payment as a full replay would.
    @Test func aPlannedRestartReplaysNothingAndAnswersTheSame() async throws {
        let dir = temporaryDataDirectory()
        let first = try await Self.score(12, prefix: "a", in: dir)
        let snapshots = try SnapshotDirectory(dataDirectory: dir).sequences()
        #expect(snapshots == [12], "the shutdown wrote a snapshot at the log's end")

        // The same data directory without its snapshots: a full replay.
        let copy = temporaryPath()
        try FileManager.default.copyItem(atPath: dir, toPath: copy)
        try FileManager.default.removeItem(atPath: copy + "/snapshots")

        let logs = LogCapture()
        let answers = try await withVigil(dataDirectory: dir, logs: logs, configure: Self.configure) { client, key in
            [
                try await Self.post(client, key, paymentBody(id: "a3", amount: "103.00", debtorName: "Debtor 3")),
                try await Self.post(client, key, paymentBody(id: "probe", amount: "777.00", debtorName: "Debtor 1")),
            ]
        }
        let (retry, fresh) = (Self.parse(answers[0]), Self.parse(answers[1]))
        let recovered = try #require(Self.recovery(logs))
        #expect(recovered.events == 0)
        #expect(recovered.snapshot == "12")
        #expect(retry["duplicate"] as? Bool == true)
        #expect(retry["scoreId"] as? String == first["a3"]?["scoreId"] as? String)

        let fullLogs = LogCapture()
        let replayed = Self.parse(
            try await withVigil(dataDirectory: copy, logs: fullLogs, configure: Self.configure) { client, key in
                try await Self.post(client, key, paymentBody(id: "probe", amount: "777.00", debtorName: "Debtor 1"))
            })
        #expect(Self.recovery(fullLogs)?.events == 12)
        #expect(Self.recovery(fullLogs)?.snapshot == "none")
        #expect(fresh["score"] as? Int == replayed["score"] as? Int)
        #expect(fresh["decision"] as? String == replayed["decision"] as? String)
        func reasons(_ answer: [String: Any]) -> [String] {
            ((answer["reasons"] as? [[String: Any]]) ?? []).map { "\($0["code"] ?? ""):\($0["feature"] ?? ""):\($0["contribution"] ?? "")" }
        }
        #expect(!reasons(fresh).isEmpty)
        #expect(reasons(fresh) == reasons(replayed))
    }

    @Test func aSnapshotHoldsNoPlaintextPersonalData() async throws {
        let dir = temporaryDataDirectory()
        _ = try await withVigil(dataDirectory: dir, configure: Self.configure) { client, key in
            for i in 0..<20 {
                var body = paymentBody(id: "canary-\(i)", debtorName: "Zebedee Canarywick", creditorIBAN: "GB33BUKB20201555555555")
                body["creditor"] = ["name": "Philomena Tweetsworth", "account": ["iban": "GB33BUKB20201555555555"]]
                body["debtor"] = ["name": "Zebedee Canarywick", "account": ["sortCode": "818283", "accountNumber": "87654321"]]
                body["device"] = ["id": "canary-device-7781", "ip": "203.0.113.77"]
                body["reference"] = "canary remittance 55"
                let status = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { $0.status }
                #expect(status == .ok)
            }
        }
        let directory = SnapshotDirectory(dataDirectory: dir)
        let sequence = try #require(try directory.sequences().first)
        #expect(sequence == 20)
        let bytes = Data(try directory.read(sequence: sequence))
        #expect(bytes.count > 1000, "the snapshot holds the state")
        for canary in PIICanaryTests.canaries {
            #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(canary) found in the snapshot")
        }
        #expect(bytes.range(of: Data("canary-1".utf8)) == nil, "payment ids are kept only as digests")
    }

    enum Damage: String, CaseIterable {
        case badChecksum, unknownVersion, truncated, beyondTheLog, notASnapshot
        /// A feature section of format 1, before the shards had lengths: a snapshot an older build wrote.
        case olderFeatureSection
        /// The first account shard's length past the bytes, the checksum made to match: a damaged length is refused,
        /// not read past, and nothing of the file is loaded.
        case shardLength

        var reason: String {
            switch self {
            case .badChecksum: "bad checksum"
            case .unknownVersion: "unknown version"
            case .truncated: "truncated"
            case .beyondTheLog: "beyond the log"
            case .notASnapshot: "not a snapshot"
            case .olderFeatureSection: "unknown version: feature section format 1"
            case .shardLength: "corrupt: account shard 0: a length of 1099511627776 bytes past"
            }
        }
    }

    /// Two snapshots (at 6 and 12); the newest is damaged: it is skipped with its reason, the older one is loaded and
    /// the 6 events after it replayed. With both damaged, the whole log is replayed.
    @Test(arguments: Damage.allCases)
    func aDamagedSnapshotIsSkippedForTheOlderOneOrAFullReplay(damage: Damage) async throws {
        let dir = temporaryDataDirectory()
        _ = try await Self.score(6, prefix: "a", in: dir)
        _ = try await Self.score(6, prefix: "b", in: dir)
        let directory = SnapshotDirectory(dataDirectory: dir)
        #expect(try directory.sequences() == [12, 6])

        func spoil(_ sequence: UInt64) throws {
            let path = directory.file(sequence: sequence)
            var bytes = try directory.read(sequence: sequence)
            switch damage {
            case .badChecksum: bytes[bytes.count / 2] ^= 0x40
            case .unknownVersion: bytes[8] = 99
            case .truncated: bytes.removeLast(bytes.count / 3)
            case .notASnapshot: bytes[0] = UInt8(ascii: "X")
            case .olderFeatureSection, .shardLength:
                // The feature section is the first: its header's format (3 since issue 14) at 36; its body at 96 (a 32-byte header and
                // four 16-byte section headers), the account shard count first, then the first shard's length.
                #expect(bytes[32] == 1 && bytes[36] == 3 && bytes[96] == 64)
                let (offset, value): (Int, UInt64) = damage == .shardLength ? (104, 1 << 40) : (36, 1)
                let size = damage == .shardLength ? 8 : 4
                withUnsafeBytes(of: value.littleEndian) { for i in 0..<size { bytes[offset + i] = $0[i] } }
                let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }
                withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[bytes.count - 4 + i] = $0[i] } }
            case .beyondTheLog:
                // A whole, valid snapshot, but of a log position past the log's end (the log lost records it covers).
                let decoded = try Snapshot.decode(bytes, duplicateShards: 32)
                var moved = decoded
                moved.sequence = 1000
                try FileManager.default.removeItem(atPath: path)
                try directory.write(moved.encode(), sequence: 1000)
                // `write` keeps the newest two: put the other one back in its place.
                return
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        if damage == .beyondTheLog {
            // The newest becomes 1000 (the log ends at 12); 6 stays; 12 is gone.
            try spoil(12)
            #expect(try directory.sequences() == [1000, 6])
        } else {
            try spoil(12)
        }
        let logs = LogCapture()
        let retried = Self.parse(
            try await withVigil(dataDirectory: dir, logs: logs, configure: Self.configure) { client, key in
                try await Self.post(client, key, paymentBody(id: "b2", amount: "102.00", debtorName: "Debtor 2"))
            })
        #expect(logs.text.contains("Skipped a snapshot"))
        let skipped = logs.text.split(separator: "\n").filter { $0.contains("vigil.snapshot.skipped") }
        #expect(skipped.count == 1)
        #expect(skipped.first?.contains(damage.reason) == true, "\(skipped)")
        let recovered = try #require(Self.recovery(logs))
        #expect(recovered.snapshot == "6")
        #expect(recovered.events == 6)
        #expect(retried["duplicate"] as? Bool == true, "the answers after the older snapshot were replayed")

        // The shutdown just now wrote a good snapshot; spoil every one for a full replay.
        for sequence in try directory.sequences() {
            var bytes = try directory.read(sequence: sequence)
            bytes[bytes.count - 1] ^= 0xFF
            try Data(bytes).write(to: URL(fileURLWithPath: directory.file(sequence: sequence)))
        }
        let fullLogs = LogCapture()
        _ = try await withVigil(dataDirectory: dir, logs: fullLogs, configure: Self.configure) { _, _ in 0 }
        #expect(Self.recovery(fullLogs)?.snapshot == "none")
        #expect(Self.recovery(fullLogs)?.events == 13, "6 + 6 payments and one duplicate-answered record")
    }
}
