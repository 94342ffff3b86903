// Feeds raw bytes to `PaymentRequestDecoder` exactly as an HTTP body reaches it.
//
// Refusing the body is the expected outcome for almost every input; a crash, trap, sanitizer report or hang
// is a finding. Beyond not crashing, each input checks what the decoder promises:
// - an accepted request, written back as JSON, is accepted again and writes back to the same bytes (so what
//   the gateway passes on is itself valid input, and validation is not order- or form-dependent);
// - a refusal as not-JSON names an offset inside the body; a refusal of fields lists at least one field, and
//   every pointer is an RFC 6901 pointer (starts with `/`, `~` only as `~0` or `~1`).
import VigilDomain
import VigilGateway
import VigilJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPaymentRequest(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: start, count: count))
    let decoder = PaymentRequestDecoder()
    switch decoder.decode(body) {
    case .success(let request):
        // Tokenisation reads the canonical account text of both parties for every accepted request.
        _ = request.debtor.account.canonical
        _ = request.creditor.account.canonical
        let written = write(request)
        switch decoder.decode(written) {
        case .success(let again):
            let rewritten = write(again)
            guard rewritten == written else {
                fatalError("an accepted request written back changed on a second decode:\n\(text(written))\n\(text(rewritten))")
            }
        case .failure(let rejection):
            fatalError("an accepted request written back is refused (\(rejection)):\n\(text(written))")
        }
    case .failure(.malformedJSON(let message)):
        guard !message.isEmpty else { fatalError("a not-JSON refusal without a message") }
        do {
            _ = try JSONParser.parse(body)
        } catch {
            guard error.byteOffset >= 0, error.byteOffset <= count else {
                fatalError("JSON error offset \(error.byteOffset) outside a \(count)-byte body")
            }
        }
    case .failure(.invalid(let errors)):
        guard !errors.isEmpty else { fatalError("a field refusal that names no field") }
        for error in errors {
            guard isJSONPointer(error.pointer), !error.detail.isEmpty else {
                fatalError("a field error with pointer \(error.pointer.debugDescription) or an empty detail")
            }
        }
    }
    return 0
}

/// The request in the request body's own shape, with every optional member it holds.
func write(_ request: PaymentRequest) -> [UInt8] {
    var json = JSONWriter(capacity: 512)
    json.beginObject()
    json.key("paymentId")
    json.string(request.paymentId)
    json.key("perspective")
    json.string(request.perspective.rawValue)
    json.key("type")
    json.string(request.type.rawValue)
    json.key("scheme")
    json.string(request.scheme)
    if let channel = request.channel {
        json.key("channel")
        json.string(channel)
    }
    json.key("amount")
    json.string(request.amount.decimalString)
    json.key("currency")
    json.string(request.amount.currency.code)
    json.key("createdAt")
    json.string(request.createdAt.rfc3339UTC)
    json.key("debtor")
    write(request.debtor, into: &json)
    json.key("creditor")
    write(request.creditor, into: &json)
    if request.payeeFirstSeenAt != nil || request.confirmationOfPayee != nil {
        json.key("payee")
        json.beginObject()
        if let firstSeenAt = request.payeeFirstSeenAt {
            json.key("firstSeenAt")
            json.string(firstSeenAt.rfc3339UTC)
        }
        if let confirmation = request.confirmationOfPayee {
            json.key("confirmationOfPayee")
            json.string(confirmation.rawValue)
        }
        json.endObject()
    }
    if request.deviceId != nil || request.ip != nil {
        json.key("device")
        json.beginObject()
        if let id = request.deviceId {
            json.key("id")
            json.string(id)
        }
        if let ip = request.ip {
            json.key("ip")
            json.string(ip)
        }
        json.endObject()
    }
    if let reference = request.reference {
        json.key("reference")
        json.string(reference)
    }
    json.endObject()
    return json.bytes
}

func write(_ party: Party, into json: inout JSONWriter) {
    json.beginObject()
    if let name = party.name {
        json.key("name")
        json.string(name)
    }
    json.key("account")
    json.beginObject()
    switch party.account {
    case .iban(let iban):
        json.key("iban")
        json.string(iban)
    case .ukDomestic(let sortCode, let accountNumber):
        json.key("sortCode")
        json.string(sortCode)
        json.key("accountNumber")
        json.string(accountNumber)
    case .scheme(let scheme, let id):
        json.key("scheme")
        json.string(scheme)
        json.key("id")
        json.string(id)
    }
    json.endObject()
    if let agent = party.agent {
        json.key("agent")
        json.string(agent)
    }
    json.endObject()
}

/// True for a non-root RFC 6901 pointer: `/`-separated, with `~` only in `~0` and `~1`.
func isJSONPointer(_ pointer: String) -> Bool {
    let bytes = Array(pointer.utf8)
    guard bytes.first == UInt8(ascii: "/") else { return false }
    for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "~") {
        guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "0") || bytes[index + 1] == UInt8(ascii: "1") else {
            return false
        }
    }
    return true
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}
