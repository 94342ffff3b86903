import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilServer

/// Plaintext personal data never leaves the gateway: not into files, logs or metrics.
struct PIICanaryTests {
    /// The debtor's sort code (818283) is not among them: it names a branch, not a person, and stays readable as the
    /// party's institution code since issue 13. Its account number, and sort code and number together, are.
    static let canaries = [
        "Zebedee Canarywick", "ZEBEDEE CANARYWICK", "Philomena Tweetsworth", "GB33BUKB20201555555555", "20201555555555",
        "87654321", "81828387654321", "canary-device-7781", "203.0.113.77", "canary remittance 55",
    ]

    @Test func canariesAppearNowhere() async throws {
        let dir = temporaryDataDirectory()
        let logs = LogCapture()
        let metrics = try await withVigil(dataDirectory: dir, logs: logs) { client, key in
            for i in 0..<30 {
                var body = paymentBody(id: "canary-\(i)", debtorName: "Zebedee Canarywick", creditorIBAN: "GB33BUKB20201555555555")
                body["creditor"] = ["name": "Philomena Tweetsworth", "account": ["iban": "GB33BUKB20201555555555"]]
                body["debtor"] = ["name": "Zebedee Canarywick", "account": ["sortCode": "818283", "accountNumber": "87654321"]]
                body["device"] = ["id": "canary-device-7781", "ip": "203.0.113.77"]
                body["reference"] = "canary remittance 55"
                if i % 10 == 9 { body["amount"] = "-1" }
                let status = try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) { $0.status }
                #expect(status == (i % 10 == 9 ? .badRequest : .ok))
            }
            return try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        }
        let files = filesUnder(dir)
        #expect(files.contains { $0.path.hasSuffix(".log") && $0.bytes.count > 1000 }, "the event log holds the payments")
        #expect(logs.text.contains("Scored payment"), "the logs were captured")
        for canary in Self.canaries {
            for file in files {
                #expect(file.bytes.range(of: Data(canary.utf8)) == nil, "\(canary) found in \(file.path)")
            }
            #expect(!logs.text.contains(canary), "\(canary) found in the logs")
            #expect(!metrics.contains(canary), "\(canary) found in the metrics")
        }
    }
}
