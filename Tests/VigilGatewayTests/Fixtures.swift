import Foundation

/// A valid request body, as a dictionary to mutate per test.
func validBody() -> [String: Any] {
    [
        "paymentId": "e2e-0001",
        "perspective": "sending",
        "type": "push",
        "scheme": "FPS",
        "channel": "mobile",
        "amount": "250.00",
        "currency": "GBP",
        "createdAt": "2026-11-22T09:30:00Z",
        "debtor": ["name": "Alice Example", "account": ["sortCode": "404142", "accountNumber": "12345678"], "agent": "NWBKGB2L"],
        "creditor": ["account": ["iban": "GB82WEST12345698765432"]],
        "payee": ["confirmationOfPayee": "no_match", "firstSeenAt": "2026-11-01T00:00:00Z"],
        "device": ["id": "dev-1", "ip": "203.0.113.9"],
        "reference": "rent",
    ]
}

func encoded(_ object: [String: Any]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object))
}
