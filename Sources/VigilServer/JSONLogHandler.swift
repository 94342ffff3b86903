import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one JSON object per log line to a `LogOutput` (stderr by default). Messages are constant; values go in
/// metadata.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let output: LogOutput

    public init(label: String, output: LogOutput = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Self.timestamp(),
            "level": event.level.rawValue,
            "label": label,
            "msg": "\(event.message)",
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged { object[key] = Self.plain(value) }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            output.drop()
            return
        }
        data.append(UInt8(ascii: "\n"))
        output.write(data)
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let s): s.description
        case .array(let a): a.map(plain)
        case .dictionary(let d): d.mapValues(plain)
        }
    }

    /// The current UTC time as RFC 3339 with milliseconds, e.g. `2026-12-04T22:54:08.123Z`.
    static func timestamp() -> String {
        let millis = Int((Date().timeIntervalSince1970 * 1000).rounded(.down))
        return timestamp(epochSeconds: millis.floorDividedBy1000, milliseconds: millis - millis.floorDividedBy1000 * 1000)
    }

    /// Formats a UTC instant by hand: a formatter per line cost more than the rest of the line, and a shared
    /// `ISO8601DateFormatter` is not documented as thread-safe on Linux.
    static func timestamp(epochSeconds: Int, milliseconds: Int) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        bytes.append(UInt8(ascii: "."))
        digits(Int32(milliseconds), 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where log lines go: a file descriptor written with plain `write(2)`. A line that cannot be written (a full
/// disk, a closed pipe) is dropped and counted, never fatal: `FileHandle.write` traps on `ENOSPC`, and logging
/// must not take the service down. (A closed pipe is `EPIPE` only where `SIGPIPE` is ignored, as `vigil serve`
/// does.)
public final class LogOutput: Sendable {
    /// The process's stderr, which `vigil serve` logs to.
    public static let standardError = LogOutput(fileDescriptor: STDERR_FILENO)
    /// The process's stdout, where `vigil serve` announces its address.
    public static let standardOutput = LogOutput(fileDescriptor: STDOUT_FILENO)

    let fileDescriptor: CInt
    private let dropped = Atomic<Int>(0)
    /// One line at a time, so that lines from concurrent tasks never interleave.
    private let lock = Mutex<Void>(())

    /// - Parameter fileDescriptor: An open descriptor the output writes to and never closes.
    public init(fileDescriptor: CInt) {
        self.fileDescriptor = fileDescriptor
    }

    /// Log lines dropped since the process started because they could not be written.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    func drop() {
        dropped.add(1, ordering: .relaxed)
    }

    /// Writes `text` whole, or drops it and counts it if the descriptor refuses it.
    public func write(_ text: String) {
        write(Data(text.utf8))
    }

    /// Writes the whole line, or drops it and counts it if the descriptor refuses it.
    func write(_ line: Data) {
        let failure = lock.withLock { _ in line.withUnsafeBytes { writeFully(fileDescriptor, $0) } }
        if failure != nil { drop() }
    }
}

/// Writes all of `bytes` to `descriptor` with `write(2)`, retrying short writes and interruptions.
/// - Returns: nil once everything is written, else the `errno` that stopped it (`ENOSPC`, `EPIPE`, …). Never traps,
///   unlike `FileHandle.write`.
public func writeFully(_ descriptor: CInt, _ bytes: UnsafeRawBufferPointer) -> CInt? {
    var offset = 0
    while offset < bytes.count {
        let result = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if result < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += result
    }
    return nil
}

extension Int {
    fileprivate var floorDividedBy1000: Int { self >= 0 ? self / 1000 : (self - 999) / 1000 }
}
