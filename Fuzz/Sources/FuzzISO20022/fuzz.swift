// Feeds raw bytes to the ISO 20022 readers exactly as an HTTP body reaches them: `XMLReader`, then each message kind
// (pacs.008, pacs.002, camt.056) from XML and from JSON, then the pacs.008 mapping onto the API's payment.
//
// Refusing the body is the expected outcome for almost every input; a crash, trap, sanitizer report, hang or
// runaway memory (a DTD or entity expanded, unbounded nesting) is a finding. Beyond not crashing, each input checks:
// - a refused XML body names an offset inside the body, and every pointer is a path from the root (`/…`);
// - an XML tree whose attributes are un-prefixed, written back as XML (`ISO20022XML.render`), reads back to the same tree
//   (so nothing is lost or invented between the bytes and the tree the mapping reads);
// - every transaction of an accepted pacs.008 maps to a payment or to at least one field error under its pointer.
import VigilDomain
import VigilGateway
import VigilISO20022

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzISO20022(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: start, count: count))
    do {
        let root = try XMLReader().read(body)
        if root.isPlain {
            let written = ISO20022XML.render(root)
            do {
                guard try XMLReader().read(written) == root else {
                    fatalError("an XML tree written back reads back differently:\n\(String(decoding: written, as: UTF8.self))")
                }
            } catch {
                fatalError("an XML tree written back is refused (\(error.code)):\n\(String(decoding: written, as: UTF8.self))")
            }
        }
    } catch {
        guard error.byteOffset >= 0, error.byteOffset <= count, !error.message.isEmpty else {
            fatalError("XML error \(error.code) at offset \(error.byteOffset) of a \(count)-byte body")
        }
    }
    for format in MessageFormat.allCases {
        for kind in MessageKind.allCases {
            do {
                let document = try ISO20022Document.read(body, format: format, kind: kind)
                switch kind {
                case .pacs008:
                    let transfer = try CreditTransfer(document)
                    let mapping = CreditTransferMapping(perspective: .sending, receivedAt: Instant(epochMillis: 1_800_000_000_000))
                    for (transaction, result) in zip(transfer.transactions, mapping.payments(transfer)) {
                        switch result {
                        case .success(let payment):
                            _ = payment.debtor.account.canonical
                            _ = payment.creditor.account.canonical
                        case .failure(let failure):
                            guard !failure.errors.isEmpty,
                                  failure.errors.allSatisfy({ $0.pointer.hasPrefix(transaction.pointer) || $0.pointer.hasPrefix(transfer.root + "/GrpHdr") }),
                                  failure.errors.allSatisfy({ !$0.detail.isEmpty })
                            else {
                                fatalError("a refused transaction without errors, or with one outside it: \(failure.errors)")
                            }
                        }
                    }
                case .pacs002:
                    _ = try StatusReport(document)
                case .camt056:
                    _ = try CancellationRequest(document)
                }
            } catch {
                if let pointer = error.pointer, !pointer.hasPrefix("/") {
                    fatalError("an error pointer that is not a path: \(pointer)")
                }
            }
        }
    }
    return 0
}

extension XMLElement {
    /// Whether every attribute is un-prefixed (namespace declarations are not attributes): the trees XML can write
    /// back as they are, whatever their elements' namespaces.
    var isPlain: Bool { attributes.allSatisfy { $0.namespace.isEmpty } && children.allSatisfy(\.isPlain) }
}
