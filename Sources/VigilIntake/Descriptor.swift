#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Blocking-with-a-deadline I/O on non-blocking descriptors, for the adapters' sockets and pipes. Every wait is
/// bounded, so a back end that stops answering costs at most the caller's deadline.
enum Descriptor {
    enum Failure: Error {
        /// The deadline passed before the descriptor was ready.
        case timedOut
        /// A system call failed with this errno.
        case system(call: String, errno: Int32)
        /// A program wrote more than its caller reads from it.
        case tooMuchOutput
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Waits until one of `fds` has `events`, or `deadline` passes. Returns the descriptors that are ready (including
    /// those at end of file or in error, whose next read or write says so).
    static func wait(_ fds: [Int32], for events: Int16, until deadline: ContinuousClock.Instant) throws(Failure) -> [Int32] {
        var polled = fds.map { pollfd(fd: $0, events: events, revents: 0) }
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw .timedOut }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&polled, nfds_t(polled.count), milliseconds)
            if ready > 0 { return polled.filter { $0.revents != 0 }.map(\.fd) }
            if ready < 0 && errno != EINTR { throw .system(call: "poll", errno: errno) }
        }
    }

    /// Writes the first `count` bytes of `bytes` to the non-blocking `fd`, waiting for room until `deadline`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], count: Int, until deadline: ContinuousClock.Instant) throws(Failure) {
        var offset = 0
        while offset < count {
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                _ = try wait([fd], for: Int16(POLLOUT), until: deadline)
            } else if written < 0 && errno != EINTR {
                throw .system(call: "send", errno: errno)
            }
        }
    }

    /// Reads what is available on the non-blocking `fd`, at most `limit` bytes: nil at end of file, empty when
    /// nothing is there yet.
    static func readAvailable(_ fd: Int32, limit: Int) throws(Failure) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, limit) }
            if count > 0 {
                buffer.removeLast(limit - count)
                return buffer
            }
            if count == 0 { return nil }
            if errno == EAGAIN || errno == EWOULDBLOCK { return [] }
            if errno != EINTR { throw .system(call: "read", errno: errno) }
        }
    }

    /// The system's message for an errno.
    static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}

extension Descriptor.Failure: CustomStringConvertible {
    var description: String {
        switch self {
        case .timedOut: "timed out"
        case .tooMuchOutput: "wrote more than expected"
        case .system(let call, let code): "\(call): \(Descriptor.message(code))"
        }
    }
}
