import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import VigilServer

/// Captures every log line (message and metadata) in memory, so tests can search them.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        var logger = Logger(label: "vigil-test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
        }
    }
}

/// A fresh, empty data directory under the temporary directory (created, as `vigil serve` would; the
/// administration never creates one), removed when the test process exits. Each server start pre-allocates
/// event-log segments (64 MiB each), so a full run would otherwise leave gigabytes behind.
func temporaryDataDirectory() -> String {
    let path = temporaryPath()
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return path
}

/// A fresh path under the temporary directory with nothing at it, removed when the test process exits.
func temporaryPath() -> String {
    let path = NSTemporaryDirectory() + "vigil-server-\(UUID().uuidString)"
    TemporaryDirectories.shared.register(path)
    return path
}

final class TemporaryDirectories: Sendable {
    static let shared = TemporaryDirectories()
    let paths = Mutex<[String]>([])

    private init() {
        atexit {
            for path in TemporaryDirectories.shared.paths.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    func register(_ path: String) { paths.withLock { $0.append(path) } }
}

/// A running (router-level) Vigil on `dataDirectory`, ready to score.
func withVigil<T: Sendable>(
    dataDirectory: String, logs: LogCapture = LogCapture(), durability: String = "fsync",
    configure: (inout VigilConfiguration) -> Void = { _ in }, stream: (any EventStreamSink)? = nil,
    _ body: @Sendable (any TestClientProtocol, String) async throws -> T
) async throws -> T {
    var configuration = VigilConfiguration()
    configuration.dataDirectory = dataDirectory
    configuration.port = 0
    configure(&configuration)
    let app = try await buildApplication(configuration: configuration, logger: logs.logger(), stream: stream)
    // A directory that already had tenants gets no demo tenant.
    let key = (try? String(contentsOfFile: dataDirectory + "/demo.key", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    return try await app.test(.router) { client in
        for _ in 0..<500 {
            let status = try await client.execute(uri: "/ready", method: .get) { $0.status }
            if status == .ok { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await body(client, key)
    }
}

func paymentBody(
    id: String = UUID().uuidString, perspective: String = "sending", amount: String = "250.00",
    debtorName: String = "Alice Example", creditorIBAN: String = "GB82WEST12345698765432"
) -> [String: Any] {
    [
        "paymentId": id,
        "perspective": perspective,
        "type": "push",
        "scheme": "FPS",
        "channel": "mobile",
        "amount": amount,
        "currency": "GBP",
        "createdAt": "2026-11-22T09:30:00Z",
        "debtor": ["name": debtorName, "account": ["sortCode": "404142", "accountNumber": "12345678"], "agent": "NWBKGB2L"],
        "creditor": ["name": "Bob Payee", "account": ["iban": creditorIBAN]],
        "payee": ["confirmationOfPayee": "close_match"],
        "device": ["id": "device-1", "ip": "198.51.100.7"],
        "reference": "invoice 7",
    ]
}

func json(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

func headers(key: String?, contentType: String? = "application/json") -> HTTPFields {
    var fields: HTTPFields = [:]
    if let key { fields[.authorization] = "Bearer \(key)" }
    if let contentType { fields[.contentType] = contentType }
    return fields
}

func object(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
}

/// Every file under `directory`, recursively, as raw bytes.
func filesUnder(_ directory: String) -> [(path: String, bytes: Data)] {
    var out: [(String, Data)] = []
    let enumerator = FileManager.default.enumerator(atPath: directory)
    while let relative = enumerator?.nextObject() as? String {
        let path = directory + "/" + relative
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
           let data = FileManager.default.contents(atPath: path) {
            out.append((path, data))
        }
    }
    return out
}
