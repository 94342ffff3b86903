import Foundation
import Testing
import VigilDomain
import VigilGateway
import VigilISO20022

/// pacs.008 decoding and its mapping table (docs/iso20022.md), row by row.
struct CreditTransferTests {
    static let root = "/Document/FIToFICstmrCdtTrf"

    /// A pacs.008 of version `version` with the given transactions' inner XML.
    static func message(version: Int = 10, header: String = "<CreDtTm>2026-11-22T09:30:00Z</CreDtTm>", _ transactions: String...) -> [UInt8] {
        Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.\(version < 10 ? "0" : "")\(version)">
              <FIToFICstmrCdtTrf>
                <GrpHdr><MsgId>M1</MsgId>\(header)<NbOfTxs>\(transactions.count)</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>
                \(transactions.map { "<CdtTrfTxInf>\($0)</CdtTrfTxInf>" }.joined(separator: "\n"))
              </FIToFICstmrCdtTrf>
            </Document>
            """.utf8)
    }

    static let parties = """
        <Dbtr><Nm>Alice Example</Nm></Dbtr>
        <DbtrAcct><Id><IBAN>GB82WEST12345698765432</IBAN></Id></DbtrAcct>
        <DbtrAgt><FinInstnId><BICFI>NWBKGB2L</BICFI></FinInstnId></DbtrAgt>
        <CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>404142</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>
        <Cdtr><Nm>Bob Payee</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>40414212345678</Id><SchmeNm><Prtry>SCAN</Prtry></SchmeNm></Othr></Id></CdtrAcct>
        """

    static func transaction(
        ids: String = "<EndToEndId>E2E-1</EndToEndId>", type: String = "<LclInstrm><Cd>INST</Cd></LclInstrm>",
        amount: String = #"<IntrBkSttlmAmt Ccy="GBP">250.00</IntrBkSttlmAmt>"#, extra: String = "", parties: String = Self.parties,
        remittance: String = "<RmtInf><Ustrd>invoice 7</Ustrd><Ustrd>second line</Ustrd></RmtInf>"
    ) -> String {
        "<PmtId>\(ids)</PmtId><PmtTpInf>\(type)</PmtTpInf>\(amount)\(extra)<ChrgBr>SLEV</ChrgBr>\(parties)\(remittance)"
    }

    func map(
        _ body: [UInt8], format: MessageFormat = .xml, perspective: Perspective = .sending, scheme: String? = nil,
        receivedAt: Instant? = Instant(rfc3339: "2026-11-22T10:00:00Z")
    ) throws -> [Result<PaymentRequest, MappingFailure>] {
        let transfer = try CreditTransfer(try ISO20022Document.read(body, format: format, kind: .pacs008))
        return CreditTransferMapping(perspective: perspective, scheme: scheme, receivedAt: receivedAt).payments(transfer)
    }

    func error(_ body: [UInt8], format: MessageFormat = .xml) -> ISO20022Error? {
        do {
            _ = try CreditTransfer(try ISO20022Document.read(body, format: format, kind: .pacs008))
            return nil
        } catch {
            return error
        }
    }

    @Test func mapsEveryFieldOfTheTable() throws {
        let results = try map(Self.message(
            Self.transaction(ids: "<InstrId>I1</InstrId><EndToEndId>E2E-1</EndToEndId><UETR>7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D</UETR>"),
            Self.transaction(extra: "<AccptncDtTm>2026-11-22T10:29:00+01:00</AccptncDtTm>")
        ), perspective: .receiving)
        let first = try results[0].get()
        #expect(first.paymentId == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        #expect(first.uetr == "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        #expect(first.perspective == .receiving)
        #expect(first.type == .push)
        #expect(first.scheme == "FPS")
        let expected = try Money.parse("250.00", currency: Currency(code: "GBP")!).get()
        #expect(first.amount == expected)
        #expect(first.createdAt == Instant(rfc3339: "2026-11-22T09:30:00Z"))
        #expect(first.debtor.name == "Alice Example")
        #expect(first.debtor.account == .iban("GB82WEST12345698765432"))
        #expect(first.debtor.agent == "NWBKGB2L")
        #expect(first.creditor.name == "Bob Payee")
        #expect(first.creditor.account == .ukDomestic(sortCode: "404142", accountNumber: "12345678"))
        #expect(first.creditor.agent == "404142")
        #expect(first.reference == "invoice 7")
        #expect(first.channel == nil && first.deviceId == nil && first.ip == nil && first.payeeFirstSeenAt == nil)
        let second = try results[1].get()
        // Without a UETR the end-to-end id is the payment id; the acceptance time wins over the header's.
        #expect(second.paymentId == "E2E-1" && second.uetr == nil)
        #expect(second.createdAt.epochMillis == Instant(rfc3339: "2026-11-22T09:29:00Z")!.epochMillis)
        #expect(second.createdAt.utcOffsetSeconds == 3600)
    }

    @Test func anOtherAccountKeepsItsSchemeOrGetsOTHR() throws {
        let parties = Self.parties.replacingOccurrences(
            of: "<IBAN>GB82WEST12345698765432</IBAN>", with: "<Othr><Id>5511987654321</Id><SchmeNm><Cd>MSISDN</Cd></SchmeNm></Othr>"
        ).replacingOccurrences(of: "<SchmeNm><Prtry>SCAN</Prtry></SchmeNm>", with: "")
        let payment = try map(Self.message(Self.transaction(parties: parties)))[0].get()
        #expect(payment.debtor.account == .scheme(scheme: "MSISDN", id: "5511987654321"))
        #expect(payment.creditor.account == .scheme(scheme: "OTHR", id: "40414212345678"))
    }

    @Test(arguments: [
        ("<SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>INST</Cd></LclInstrm>", "GBP", "SEPA_INST"),
        ("<LclInstrm><Cd>INST</Cd></LclInstrm>", "EUR", "SEPA_INST"),
        ("<LclInstrm><Cd>INST</Cd></LclInstrm>", "GBP", "FPS"),
        ("<LclInstrm><Cd>INST</Cd></LclInstrm>", "BRL", "PIX"),
        ("<LclInstrm><Cd>INST</Cd></LclInstrm>", "INR", "UPI"),
        ("<LclInstrm><Prtry>fednow</Prtry></LclInstrm>", "USD", "FEDNOW"),
        ("<SvcLvl><Prtry>RTP</Prtry></SvcLvl>", "USD", "RTP"),
        ("<SvcLvl><Cd>SEPA</Cd></SvcLvl>", "EUR", "SEPA"),
    ])
    func theSchemeFollowsTheTable(_ type: String, _ currency: String, _ scheme: String) throws {
        let body = Self.message(Self.transaction(type: type, amount: "<IntrBkSttlmAmt Ccy=\"\(currency)\">10.00</IntrBkSttlmAmt>"))
        #expect(try map(body)[0].get().scheme == scheme)
    }

    @Test func theSchemeHeaderWinsAndWithoutAnySchemeTheTransactionIsRefused() throws {
        let unknown = Self.message(Self.transaction(type: "<LclInstrm><Cd>INST</Cd></LclInstrm>", amount: #"<IntrBkSttlmAmt Ccy="USD">10.00</IntrBkSttlmAmt>"#))
        #expect(try map(unknown, scheme: "FEDNOW")[0].get().scheme == "FEDNOW")
        #expect(try map(Self.message(Self.transaction()), scheme: "RTP")[0].get().scheme == "RTP")
        guard case .failure(let failure) = try map(unknown)[0] else { Issue.record("mapped"); return }
        #expect(failure.errors.map(\.pointer) == [Self.root + "/CdtTrfTxInf[1]/PmtTpInf"])
    }

    @Test func badValuesGetTheAPIsRulesAtTheirElements() throws {
        let parties = Self.parties.replacingOccurrences(of: "GB82WEST12345698765432", with: "GB00WEST12345698765432")
            .replacingOccurrences(of: "NWBKGB2L", with: "NW-BK")
        let body = Self.message(
            Self.transaction(
                ids: "<EndToEndId>E2E-1</EndToEndId><UETR>not-a-uuid</UETR>", type: "<LclInstrm><Prtry>FPS</Prtry></LclInstrm>", amount: #"<IntrBkSttlmAmt Ccy="JPY">10.5</IntrBkSttlmAmt>"#,
                parties: parties
            ),
            Self.transaction(type: "<LclInstrm><Prtry>FPS</Prtry></LclInstrm>", amount: #"<IntrBkSttlmAmt Ccy="XYZ">10.00</IntrBkSttlmAmt>"#, extra: "<AccptncDtTm>2026-11-22T10:30:00Z</AccptncDtTm>")
        )
        let results = try map(body)
        guard case .failure(let first) = results[0], case .failure(let second) = results[1] else { Issue.record("mapped"); return }
        let at = Self.root + "/CdtTrfTxInf[1]"
        #expect(Set(first.errors.map(\.pointer)) == [
            at + "/PmtId/UETR", at + "/IntrBkSttlmAmt", at + "/DbtrAcct/Id/IBAN", at + "/DbtrAgt/FinInstnId/BICFI",
        ])
        #expect(first.errors.first { $0.pointer.hasSuffix("IntrBkSttlmAmt") }?.detail == "Has more decimal places than the currency allows (0).")
        // A currency that is not ISO 4217, and a creation time more than the skew ahead of the server's clock.
        #expect(Set(second.errors.map(\.pointer)) == [Self.root + "/CdtTrfTxInf[2]/IntrBkSttlmAmt/@Ccy", Self.root + "/CdtTrfTxInf[2]/AccptncDtTm"])
        for error in first.errors + second.errors {
            #expect(!error.detail.contains("GB00") && !error.detail.contains("not-a-uuid") && !error.detail.contains("NW-BK"))
        }
    }

    @Test func aCreationTimeWithoutOffsetIsRefusedAtTheHeader() throws {
        guard case .failure(let failure) = try map(Self.message(header: "<CreDtTm>2026-11-22T09:30:00</CreDtTm>", Self.transaction()))[0] else {
            Issue.record("mapped")
            return
        }
        #expect(failure.errors.map(\.pointer) == [Self.root + "/GrpHdr/CreDtTm"])
    }

    @Test(arguments: 8...12)
    func everyAcceptedVersionReads(_ version: Int) throws {
        #expect(try map(Self.message(version: version, Self.transaction())).count == 1)
    }

    @Test(arguments: [7, 13, 1])
    func otherVersionsAreRefusedNamingTheAcceptedNamespaces(_ version: Int) {
        let error = error(Self.message(version: version, Self.transaction()))
        #expect(error?.code == .unsupportedMessage)
        #expect(error?.pointer == "/Document")
        #expect(error?.message.contains("urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08") == true)
        #expect(error?.message.contains("urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12") == true)
    }

    @Test func aPrefixedDocumentReadsAsTheDefaultNamespaceOneAndAForeignNamespaceIsNotTheMessage() throws {
        let plain = String(decoding: Self.message(Self.transaction()), as: UTF8.self)
        let prefixed = plain.replacingOccurrences(of: "<Document xmlns=", with: "<doc:Document xmlns:doc=")
            .replacingOccurrences(of: "</Document>", with: "</doc:Document>")
            .replacingOccurrences(of: "<FIToFICstmrCdtTrf>", with: "<doc:FIToFICstmrCdtTrf>").replacingOccurrences(of: "</FIToFICstmrCdtTrf>", with: "</doc:FIToFICstmrCdtTrf>")
        // Inside, the un-prefixed elements have no namespace: they are not the message's.
        #expect(error(Array(prefixed.utf8))?.pointer == Self.root + "/GrpHdr")
        let declared = prefixed.replacingOccurrences(of: "xmlns:doc=", with: "xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.10\" xmlns:doc=")
        #expect(try map(Array(declared.utf8)).count == 1)
        let foreign = plain.replacingOccurrences(of: "<FIToFICstmrCdtTrf>", with: "<FIToFICstmrCdtTrf xmlns=\"urn:other\">")
        #expect(error(Array(foreign.utf8))?.code == .missingElement)
    }

    /// A message in the shape Tazama's `frms-coe-lib` declares for pacs.008.001.10 (its `FIToFICstmrCdt`, one
    /// `CdtTrfTxInf` as an object, `Othr` accounts with a proprietary scheme, clearing-member agents, `NbOfTxs` a number,
    /// the party's own `Id` and a message-level `RmtInf` Vigil does not read). Written here, not copied.
    @Test func aTazamaShapedJSONMessageMaps() throws {
        let body = Array(#"""
            {"TxTp": "pacs.008.001.10",
             "FIToFICstmrCdt": {
               "GrpHdr": {"MsgId": "b7d8c2a0f1e3", "CreDtTm": "2026-11-22T09:17:52.216Z", "NbOfTxs": 1, "SttlmInf": {"SttlmMtd": "CLRG"}},
               "CdtTrfTxInf": {
                 "PmtId": {"InstrId": "5ab4fc7355de4ef8a75b78b00a681ed2", "EndToEndId": "2c516801007642dfb892944dde1cf845"},
                 "IntrBkSttlmAmt": {"Amt": {"Amt": 31020.89, "Ccy": "USD"}},
                 "InstdAmt": {"Amt": {"Amt": "9000.00", "Ccy": "ZAR"}},
                 "ChrgBr": "DEBT",
                 "Dbtr": {"Nm": "April Blake Grant", "Id": {"PrvtId": {"Othr": {"Id": "+27-730975224", "SchmeNm": {"Prtry": "MSISDN"}}}},
                          "CtctDtls": {"MobNb": "+27-730975224"}},
                 "DbtrAcct": {"Id": {"Othr": {"Id": "1010101010", "SchmeNm": {"Prtry": "MSISDN"}}}, "Nm": "April Grant"},
                 "DbtrAgt": {"FinInstnId": {"ClrSysMmbId": {"MmbId": "dfsp001"}}},
                 "CdtrAgt": {"FinInstnId": {"ClrSysMmbId": {"MmbId": "dfsp002"}}},
                 "Cdtr": {"Nm": "Felicia Easton Quill"},
                 "CdtrAcct": {"Id": {"Othr": {"Id": "2020202020", "SchmeNm": {"Prtry": "MSISDN"}}}, "Nm": "Felicia Quill"},
                 "Purp": {"Cd": "MP2P"}},
               "RmtInf": {"Ustrd": "Payment of USD 30713.75 from April to Felicia"},
               "SplmtryData": {"Envlp": {"Doc": {"Xprtn": "2026-11-22T10:17:52.216Z"}}}}}
            """#.utf8)
        let results = try map(body, format: .json, scheme: "MOJALOOP")
        let payment = try results[0].get()
        #expect(results.count == 1)
        #expect(payment.paymentId == "2c516801007642dfb892944dde1cf845")
        #expect(payment.amount.decimalString == "31020.89" && payment.amount.currency.code == "USD")
        #expect(payment.scheme == "MOJALOOP")
        #expect(payment.debtor.account == .scheme(scheme: "MSISDN", id: "1010101010"))
        #expect(payment.debtor.agent == "dfsp001" && payment.creditor.agent == "dfsp002")
        #expect(payment.creditor.account == .scheme(scheme: "MSISDN", id: "2020202020"))
        #expect(payment.creditor.name == "Felicia Easton Quill")
        #expect(payment.reference == nil)
        #expect(payment.createdAt == Instant(rfc3339: "2026-11-22T09:17:52.216Z"))
    }

    @Test func moreThanTheTransactionLimitIsRefusedAtTheFirstOneOver() {
        let many = Array(repeating: Self.transaction(), count: CreditTransfer.maxTransactions + 1)
        let body = Array("""
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.10"><FIToFICstmrCdtTrf><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-22T09:30:00Z</CreDtTm></GrpHdr>\(many.map { "<CdtTrfTxInf>\($0)</CdtTrfTxInf>" }.joined())</FIToFICstmrCdtTrf></Document>
            """.utf8)
        let error = error(body)
        #expect(error?.code == .limitExceeded)
        #expect(error?.pointer == Self.root + "/CdtTrfTxInf[101]")
    }
}
