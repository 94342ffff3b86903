import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
@testable import VigilServer

/// Entitlements loaded from a daily file (an intake record in the log, applied at recovery) refuse a payment outside
/// them with 403 `not-entitled`; a tenant that loaded none is not checked.
struct EntitlementCheckTests {
    static let allYear = Instant(epochMillis: 0)

    /// Writes an entitlements record for the demo tenant into the data directory's event log, as the intake sink does.
    static func loadEntitlements(_ entitlements: [Entitlement], into dir: String) async throws {
        let log = try FileEventLog(directory: dir + "/events")
        _ = try await log.append(EventCoding.record(IntakeEvent(
            tenant: "demo", fileId: "e1", row: entitlements.count + 1, loadedAt: Instant(epochMillis: 1_700_000_000_000), record: .entitlements(entitlements)
        )))
        await log.shutdown()
    }

    static func score(_ client: any TestClientProtocol, key: String, _ body: [String: Any]) async throws -> (HTTPResponse.Status, [String: Any], String) {
        try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(body)) {
            ($0.status, object($0.body), String(buffer: $0.body))
        }
    }

    @Test func aPaymentOutsideTheLoadedEntitlementsIsA403() async throws {
        let dir = temporaryDataDirectory()
        // The debtor's sort code in paymentBody is 404142; the creditor's IBAN GB82WEST12345698765432 has 123456.
        try await Self.loadEntitlements([
            Entitlement(codeType: .sortCode, from: "404100", to: "404199", perspectives: [.sending], products: ["FPS"], validFrom: Self.allYear, validTo: nil),
            Entitlement(codeType: .account, from: "12345600000000", to: "12345699999999", perspectives: [.receiving], products: nil, validFrom: Self.allYear, validTo: nil),
        ], into: dir)
        try await withVigil(dataDirectory: dir) { client, key in
            var (status, _, _) = try await Self.score(client, key: key, paymentBody())
            #expect(status == .ok)
            (status, _, _) = try await Self.score(client, key: key, paymentBody(perspective: "receiving"))
            #expect(status == .ok)

            // Another sort code, another scheme, another creditor account: each outside.
            var outside = paymentBody()
            outside["debtor"] = ["name": "Alice Example", "account": ["sortCode": "404200", "accountNumber": "12345678"], "agent": "NWBKGB2L"]
            var otherScheme = paymentBody()
            otherScheme["scheme"] = "SEPA_INST"
            for body in [outside, otherScheme, paymentBody(perspective: "receiving", creditorIBAN: "GB33BUKB20201555555555")] {
                let (status, problem, text) = try await Self.score(client, key: key, body)
                #expect(status == .forbidden)
                #expect(problem["type"] as? String == "urn:vigil:problem:not-entitled")
                #expect(problem["status"] as? Int == 403)
                for value in ["404200", "12345678", "SEPA_INST", "20201555555555", "BUKB"] { #expect(!text.contains(value)) }
            }
        }
    }

    @Test func entitlementsThatExpiredOrAreEmptyAllowNothing() async throws {
        for entitlements in [
            [],
            [Entitlement(codeType: .bic, from: "NWBKGB2L", to: "NWBKGB2L", perspectives: [.sending], products: nil, validFrom: Self.allYear, validTo: Instant(epochMillis: 1_000))],
        ] {
            let dir = temporaryDataDirectory()
            try await Self.loadEntitlements(entitlements, into: dir)
            try await withVigil(dataDirectory: dir) { client, key in
                let (status, problem, _) = try await Self.score(client, key: key, paymentBody())
                #expect(status == .forbidden)
                #expect(problem["type"] as? String == "urn:vigil:problem:not-entitled")
            }
        }
    }

    @Test func aBICRangeCoversTheAgent() async throws {
        let dir = temporaryDataDirectory()
        try await Self.loadEntitlements([
            Entitlement(codeType: .bic, from: "NWBKGB2L", to: "NWBKGB2L", perspectives: [.sending], products: nil, validFrom: Self.allYear, validTo: nil)
        ], into: dir)
        try await withVigil(dataDirectory: dir) { client, key in
            let sending = try await Self.score(client, key: key, paymentBody()).0
            let receiving = try await Self.score(client, key: key, paymentBody(perspective: "receiving")).0
            #expect(sending == .ok)
            #expect(receiving == .forbidden)
        }
    }

    @Test func aTenantWithoutEntitlementsIsNotChecked() async throws {
        try await withVigil(dataDirectory: temporaryDataDirectory()) { client, key in
            let status = try await Self.score(client, key: key, paymentBody(perspective: "receiving")).0
            #expect(status == .ok)
        }
    }
}
