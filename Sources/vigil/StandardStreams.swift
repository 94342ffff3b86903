import Foundation
import VigilServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered stdout for what a verb prints as its result (exports, predictions, reports), written with `write(2)`.
///
/// `FileHandle.write` traps when the write fails, so `vigil events export > FILE` on a full disk died of `SIGILL`
/// with half a file; here a failed write is an error that names the cause, and the verb exits non-zero.
struct StandardOutput {
    var buffer: [UInt8] = []

    mutating func write(_ text: String) throws(CLIError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count > 1 << 16 { try flush() }
    }

    mutating func write(_ bytes: some Sequence<UInt8>) throws(CLIError) {
        buffer.append(contentsOf: bytes)
        if buffer.count > 1 << 16 { try flush() }
    }

    /// Writes `text` at once (for output that is already whole).
    static func print(_ text: String) throws(CLIError) {
        try writeAll(STDOUT_FILENO, Array(text.utf8), stream: "standard output")
    }

    /// Writes `bytes` at once (for output that is already whole).
    static func print(_ bytes: some Sequence<UInt8>) throws(CLIError) {
        try writeAll(STDOUT_FILENO, Array(bytes), stream: "standard output")
    }

    mutating func flush() throws(CLIError) {
        defer { buffer.removeAll(keepingCapacity: true) }
        try writeAll(STDOUT_FILENO, buffer, stream: "standard output")
    }
}

/// Writes a message for the person at the terminal on stderr. A message that cannot be written is lost, never
/// fatal: the verb's own outcome (its exit status, its files) is what counts.
func printError(_ text: some Sequence<UInt8>) {
    try? writeAll(STDERR_FILENO, Array(text), stream: "standard error")
}

/// Writes all of `bytes` to `descriptor`, or says which stream refused them and why.
private func writeAll(_ descriptor: CInt, _ bytes: [UInt8], stream: String) throws(CLIError) {
    if let failure = bytes.withUnsafeBytes({ writeFully(descriptor, $0) }) {
        throw CLIError("cannot write to \(stream): \(String(cString: strerror(failure)))")
    }
}
