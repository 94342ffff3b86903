import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilGateway
import VigilProtection

/// The parse, validate and tokenise stages over real rows: what leaves holds the tokens the scoring API would make,
/// in file order, whether the rows are tokenised on one core or several.
struct TokenizingReaderTests {
    static func history(rows: Int) -> [UInt8] {
        var text = "paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.name,debtor.account.sortCode,debtor.account.accountNumber,creditor.account.iban\n"
        for i in 0..<rows {
            let account = String(format: "%08d", 10_000_000 + i)
            text += "p-\(i),sending,push,FPS,\(i + 1).50,GBP,2026-11-0\(1 + i % 9)T10:00:00Z,Canary Person \(i),040004,\(account),GB33BUKB20201555555555\n"
        }
        return Array(text.utf8)
    }

    static func read(_ bytes: [UInt8], type: DailyFileType, tenant: TenantIntake, chunk: Int) throws -> [(Int, IntakeRecord)] {
        var reader = TokenizingReader(type: type, tenant: tenant)
        var out: [(Int, IntakeRecord)] = []
        var start = 0
        while start < bytes.count {
            try reader.feed(bytes[start..<min(bytes.count, start + chunk)]) { out.append(($0, $1)) }
            start += chunk
        }
        try reader.finish { out.append(($0, $1)) }
        return out
    }

    @Test func historyRowsLeaveTokenisedAsTheGatewayWouldInFileOrderOnOneCoreOrMany() throws {
        let fixture = try PipelineFixture()
        let bytes = Self.history(rows: 300)
        // A big chunk gives the reader hundreds of rows at once (tokenised in parallel); a small one a row or two.
        let parallel = try Self.read(bytes, type: .history, tenant: fixture.tenant, chunk: 1 << 20)
        let serial = try Self.read(bytes, type: .history, tenant: fixture.tenant, chunk: 100)
        #expect(parallel.map(\.0) == Array(2...301))
        #expect(serial.map(\.0) == parallel.map(\.0))
        let gateway = Gateway(keys: fixture.tenant.keys)
        let (expected, _) = try HistoryReader().read(bytes)
        for ((row, record), (_, again)) in zip(parallel, serial) {
            guard case .history(let payment) = record, case .history(let same) = again else {
                Issue.record("row \(row) is not a history record")
                continue
            }
            let want = gateway.tokenize(expected[row - 2].request)
            #expect(payment.paymentId == "p-\(row - 2)")
            #expect(payment.debtor.account == want.debtor.account && payment.creditor.account == want.creditor.account)
            #expect(payment.debtor.name == want.debtor.name)
            #expect(same.debtor.account == payment.debtor.account)
            // Seals differ (fresh nonces) but open to the same account under the tenant's keys.
            #expect(payment.debtor.sealedAccount != same.debtor.sealedAccount)
        }
    }

    @Test func anAccountMapLinksTheTenantsCustomerTokenAndTheAccountsPaymentToken() throws {
        let fixture = try PipelineFixture()
        let text = "customerId,account.sortCode,account.accountNumber,card\nCUST-CANARY-1,040004,12345678,4111111111111111\n"
        let records = try Self.read(Array(text.utf8), type: .accountMap, tenant: fixture.tenant, chunk: 5)
        #expect(records.count == 1)
        guard case .accountLink(let link) = records.first?.1 else {
            Issue.record("not an account link")
            return
        }
        let keys = fixture.tenant.keys
        #expect(link.account == keys.token(.account, AccountIdentifier.ukDomestic(sortCode: "040004", accountNumber: "12345678").canonical.utf8))
        #expect(link.customer == keys.token(.customer, "bank-a:CUST-CANARY-1".utf8))
        #expect(link.customer != keys.token(.customer, "bank-b:CUST-CANARY-1".utf8))
        #expect(link.card == keys.token(.card, "4111111111111111".utf8))
    }
}
