import Testing
import VigilDomain
import VigilFiles
import VigilGateway
import VigilISO20022

/// pacs.002 → `ParsedStatus` and camt.056 → `ParsedFraudReport`, row by row of docs/iso20022.md.
struct LabelMappingTests {
    static func pacs002(version: Int = 12, _ transactions: String...) -> [UInt8] {
        Array("""
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.\(version)"><FIToFIPmtStsRpt>
            <GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-11-22T09:30:00Z</CreDtTm></GrpHdr>
            \(transactions.map { "<TxInfAndSts>\($0)</TxInfAndSts>" }.joined())
            </FIToFIPmtStsRpt></Document>
            """.utf8)
    }

    static func camt056(version: Int = 10, _ transactions: String...) -> [UInt8] {
        Array("""
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.\(version < 10 ? "0" : "")\(version)"><FIToFIPmtCxlReq>
            <Assgnmt><Id>C1</Id><CreDtTm>2026-11-23T08:00:00Z</CreDtTm></Assgnmt>
            <Undrlyg>\(transactions.map { "<TxInf>\($0)</TxInf>" }.joined())</Undrlyg>
            </FIToFIPmtCxlReq></Document>
            """.utf8)
    }

    func statuses(_ body: [UInt8], format: MessageFormat = .xml) throws -> [LabelMappingResult] {
        LabelMapping.statuses(try StatusReport(try ISO20022Document.read(body, format: format, kind: .pacs002)))
    }

    func recalls(_ body: [UInt8]) throws -> [LabelMappingResult] {
        LabelMapping.fraudReports(try CancellationRequest(try ISO20022Document.read(body, format: .xml, kind: .camt056)))
    }

    @Test func statusesMapByTheTable() throws {
        let at = Instant(rfc3339: "2026-11-22T09:30:00Z")!
        let results = try statuses(Self.pacs002(
            "<OrgnlEndToEndId>E1</OrgnlEndToEndId><OrgnlUETR>7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D</OrgnlUETR><TxSts>ACSC</TxSts>",
            "<OrgnlEndToEndId>E2</OrgnlEndToEndId><TxSts>ACCC</TxSts>",
            "<OrgnlEndToEndId>E3</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf><OrgnlTxRef><CdtrAcct><Id><IBAN>GB82WEST12345698765432</IBAN></Id></CdtrAcct></OrgnlTxRef>",
            "<OrgnlEndToEndId>E4</OrgnlEndToEndId><TxSts>ACSP</TxSts>",
            "<OrgnlEndToEndId>E5</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>ac04x</Cd></Rsn></StsRsnInf>"
        ))
        #expect(results[0] == .status(ParsedStatus(paymentId: nil, uetr: "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", status: .settled, reasonCode: nil, at: at)))
        #expect(results[1] == .status(ParsedStatus(paymentId: "E2", uetr: nil, status: .settled, reasonCode: nil, at: at)))
        #expect(results[2] == .status(ParsedStatus(
            paymentId: "E3", uetr: nil, status: .rejected, reasonCode: "AC04", at: at, creditorAccount: .iban("GB82WEST12345698765432")
        )))
        #expect(results[3] == .ignored(reason: "TxSts is not a final status."))
        #expect(results[4] == .invalid(MappingFailure(errors: [FieldError(
            pointer: "/Document/FIToFIPmtStsRpt/TxInfAndSts[5]/StsRsnInf/Rsn/Cd", detail: "Must be an ISO 20022 reason code: four upper-case letters or digits."
        )])))
    }

    @Test(arguments: 10...14)
    func everyAcceptedPacs002VersionReads(_ version: Int) throws {
        #expect(try statuses(Self.pacs002(version: version, "<OrgnlEndToEndId>E1</OrgnlEndToEndId><TxSts>ACSC</TxSts>")).count == 1)
    }

    @Test(arguments: [9, 15])
    func otherPacs002VersionsAreRefused(_ version: Int) {
        #expect(throws: ISO20022Error.self) { try statuses(Self.pacs002(version: version, "<OrgnlEndToEndId>E1</OrgnlEndToEndId><TxSts>ACSC</TxSts>")) }
    }

    @Test func aStatusWithoutTxStsOrOriginalIdIsRefusedAtItsPointer() {
        #expect(throws: ISO20022Error(.missingElement, "A mandatory element is missing.", pointer: "/Document/FIToFIPmtStsRpt/TxInfAndSts[1]/TxSts")) {
            try statuses(Self.pacs002("<OrgnlEndToEndId>E1</OrgnlEndToEndId>"))
        }
        #expect(throws: ISO20022Error(
            .missingElement, "The transaction needs OrgnlUETR or OrgnlEndToEndId.", pointer: "/Document/FIToFIPmtStsRpt/TxInfAndSts[1]/OrgnlUETR"
        )) {
            try statuses(Self.pacs002("<TxSts>ACSC</TxSts>"))
        }
    }

    @Test func aFRADRecallIsAFraudReportAndOtherReasonsAreIgnored() throws {
        let results = try recalls(Self.camt056(
            "<OrgnlEndToEndId>E1</OrgnlEndToEndId><OrgnlIntrBkSttlmAmt Ccy=\"EUR\">99.50</OrgnlIntrBkSttlmAmt><CxlRsnInf><Rsn><Cd>FRAD</Cd></Rsn></CxlRsnInf><OrgnlTxRef><CdtrAcct><Id><Othr><Id>40414212345678</Id><SchmeNm><Prtry>SCAN</Prtry></SchmeNm></Othr></Id></CdtrAcct></OrgnlTxRef>",
            "<OrgnlUETR>7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d</OrgnlUETR><CxlRsnInf><Rsn><Cd>DUPL</Cd></Rsn></CxlRsnInf>"
        ))
        #expect(results[0] == .fraudReport(ParsedFraudReport(
            paymentId: "E1", uetr: nil, reportedAt: Instant(rfc3339: "2026-11-23T08:00:00Z")!, fraudType: .other,
            amountLost: try Money.parse("99.50", currency: Currency(code: "EUR")!).get(), reportingSide: .sending,
            creditorAccount: .ukDomestic(sortCode: "404142", accountNumber: "12345678")
        )))
        #expect(results[1] == .ignored(reason: "The cancellation reason is not FRAD."))
    }

    @Test(arguments: 8...11)
    func everyAcceptedCamt056VersionReads(_ version: Int) throws {
        #expect(try recalls(Self.camt056(version: version, "<OrgnlEndToEndId>E1</OrgnlEndToEndId><CxlRsnInf><Rsn><Cd>FRAD</Cd></Rsn></CxlRsnInf>")).count == 1)
    }

    @Test func aRecallWithoutReasonIsRefusedAtItsPointer() {
        #expect(throws: ISO20022Error(.missingElement, "A mandatory element is missing.", pointer: "/Document/FIToFIPmtCxlReq/Undrlyg[1]/TxInf[1]/CxlRsnInf")) {
            try recalls(Self.camt056("<OrgnlEndToEndId>E1</OrgnlEndToEndId>"))
        }
        #expect(throws: ISO20022Error.self) { try recalls(Self.camt056(version: 12, "<OrgnlEndToEndId>E1</OrgnlEndToEndId><CxlRsnInf/>")) }
    }
}
