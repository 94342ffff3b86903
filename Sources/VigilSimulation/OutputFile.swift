#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written through a 1 MiB buffer with plain `write(2)`: no per-row system calls or Foundation formatting.
///
/// Appends never throw; the first write error is kept and thrown by `close()`.
final class OutputFile {
    private let path: String
    private let descriptor: Int32
    private let capacity = 1 << 20
    private let buffer: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var failure: SimulationError?
    private var isOpen = true

    init(path: String) throws(SimulationError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw OutputFile.error("cannot create \(path)") }
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        if isOpen { _ = closeDescriptor(descriptor) }
    }

    private static func error(_ what: String) -> SimulationError {
        SimulationError(code: .cannotWrite, message: "\(what): \(String(cString: strerror(errno)))")
    }

    @inline(__always)
    private func reserve(_ n: Int) {
        if count + n > capacity { flush() }
    }

    func append(_ bytes: [UInt8]) {
        reserve(bytes.count)
        bytes.withUnsafeBufferPointer { source in
            (buffer + count).update(from: source.baseAddress!, count: source.count)
        }
        count += bytes.count
    }

    @inline(__always)
    func append(byte: UInt8) {
        reserve(1)
        buffer[count] = byte
        count += 1
    }

    func append(_ text: String) { append(Array(text.utf8)) }

    /// `value` in decimal, zero-padded to `width` digits.
    @inline(__always)
    func append(digits value: Int, width: Int) {
        reserve(width)
        var v = value
        var i = width - 1
        while i >= 0 {
            buffer[count + i] = UInt8(48 + v % 10)
            v /= 10
            i -= 1
        }
        count += width
    }

    /// A non-negative integer in decimal without padding.
    func append(number value: Int64) {
        var digits = 1
        var scale: Int64 = 10
        while digits < 19, value >= scale {
            digits += 1
            scale *= 10
        }
        append(digits: Int(value), width: digits)
    }

    /// `value` as 16 lower-case hex digits.
    func append(hex value: UInt64) {
        reserve(16)
        for i in 0..<16 {
            let nibble = UInt8((value >> UInt64(60 - 4 * i)) & 0xF)
            buffer[count + i] = nibble < 10 ? 48 + nibble : 87 + nibble
        }
        count += 16
    }

    func flush() {
        var offset = 0
        while offset < count, failure == nil {
            let written = write(descriptor, buffer + offset, count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                failure = OutputFile.error("cannot write \(path)")
            } else {
                offset += written
            }
        }
        count = 0
    }

    /// Writes what is buffered and closes the file.
    /// - Throws: the first error any write met, or the close's own.
    func close() throws(SimulationError) {
        flush()
        isOpen = false
        let closed = closeDescriptor(descriptor)
        if let failure { throw failure }
        if closed != 0 { throw OutputFile.error("cannot write \(path)") }
    }
}

// `close` inside `OutputFile` means the method, so the system call goes through this.
private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }
