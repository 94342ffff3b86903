public import VigilFiles
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Scans received files with a running clamd, over its INSTREAM protocol: the file is streamed to clamd in chunks
/// (memory bounded by one chunk, whatever the file's size) on a unix socket or a loopback TCP port.
///
/// A scan never passes silently: clamd unreachable, refusing, answering something unexpected or not answering within
/// `deadline` is ``IntakeError/Code/unavailable``, and the file stays in the inbox for a retry. A file larger than
/// clamd's `StreamMaxLength` is `.unavailable` too (not a refusal): the file is not at fault, the scanner's limit is,
/// and it passes once the operator raises `StreamMaxLength` (docs/intake.md) — a refusal would send the bank a reason
/// it cannot act on and lose a good file.
///
/// - Performance: a scan holds one thread of NIO's blocking pool (`NIOThreadPool.singleton`) from connect to
///   answer; every wait on it is bounded by `deadline`.
public struct ClamdScanner: MalwareScanner {
    /// Where clamd listens.
    public enum Address: Sendable, Hashable, CustomStringConvertible {
        /// clamd's `LocalSocket`.
        case unix(path: String)
        /// clamd's `TCPSocket` (and `TCPAddr`).
        case tcp(host: String, port: Int)

        /// Parses `tcp://HOST:PORT`, `unix:PATH` or an absolute socket path.
        /// - Throws: ``IntakeError`` `.unavailable` naming the accepted forms.
        public init(parsing text: String) throws(IntakeError) {
            if text.hasPrefix("tcp://") {
                let rest = text.dropFirst("tcp://".count)
                guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                    (1...65535).contains(port), colon != rest.startIndex
                else {
                    throw IntakeError(.unavailable, "the clamd address must be tcp://HOST:PORT with a port 1-65535")
                }
                var host = String(rest[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                self = .tcp(host: host, port: port)
            } else if text.hasPrefix("unix:") {
                self = .unix(path: String(text.dropFirst("unix:".count)))
            } else if text.hasPrefix("/") {
                self = .unix(path: text)
            } else {
                throw IntakeError(
                    .unavailable, "the clamd address must be a socket path (/run/clamav/clamd.ctl, unix:PATH) or tcp://HOST:PORT")
            }
        }

        public var description: String {
            switch self {
            case .unix(let path): "unix:\(path)"
            case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
            }
        }
    }

    public var address: Address
    /// How long clamd may take to accept the connection, to take each chunk, and to answer after the last one.
    public var deadline: Duration
    /// The size of each INSTREAM chunk; clamd's `StreamMaxLength` bounds the sum, not the chunk.
    public var chunkSize: Int

    public init(address: Address, deadline: Duration = .seconds(30), chunkSize: Int = 64 * 1024) {
        self.address = address
        self.deadline = deadline
        self.chunkSize = max(1, chunkSize)
    }

    public func scan(file path: String) async throws(IntakeError) -> ScanVerdict {
        let scanner = self
        let outcome: Result<ScanVerdict, IntakeError>
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive { scanner.scanBlocking(path) }
        } catch {
            throw IntakeError(.unavailable, "the malware scan could not run: the blocking thread pool is shut down")
        }
        return try outcome.get()
    }

    /// The clamd answer to an INSTREAM, `stream: ` and the NUL terminator removed.
    static func verdict(answer: String, address: Address) -> Result<ScanVerdict, IntakeError> {
        let body = answer.hasPrefix("stream: ") ? String(answer.dropFirst("stream: ".count)) : answer
        if body == "OK" { return .success(.clean) }
        if body.hasSuffix(" FOUND") {
            let signature = String(body.dropLast(" FOUND".count))
            if !signature.isEmpty { return .success(.infected(signature: signature)) }
        }
        if body.contains("size limit exceeded") {
            return .failure(
                IntakeError(
                    .unavailable,
                    "the file is larger than clamd's StreamMaxLength at \(address): raise StreamMaxLength (and "
                        + "MaxScanSize, MaxFileSize) in clamd.conf; the file stays in the inbox and is scanned again"))
        }
        // clamd's own error text names its condition (e.g. "Can't allocate memory ERROR"); it never quotes the file.
        let shown = body.prefix(200).filter { $0.isASCII && !$0.isNewline }
        return .failure(IntakeError(.unavailable, "clamd at \(address) could not scan the file: \(shown)"))
    }

    private func scanBlocking(_ path: String) -> Result<ScanVerdict, IntakeError> {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else {
            return .failure(IntakeError(.io, "the file to scan could not be opened: \(Descriptor.message(errno))"))
        }
        defer { close(file) }
        let socket: Int32
        switch connectToClamd() {
        case .success(let fd): socket = fd
        case .failure(let error): return .failure(error)
        }
        defer { close(socket) }

        do {
            let command = Array("zINSTREAM\0".utf8)
            try Descriptor.writeAll(socket, command, count: command.count, until: .now + deadline)
            var chunk = [UInt8](repeating: 0, count: 4 + chunkSize)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(file, $0.baseAddress! + 4, chunkSize) }
                if count < 0 {
                    if errno == EINTR { continue }
                    return .failure(IntakeError(.io, "reading the file to scan failed: \(Descriptor.message(errno))"))
                }
                withUnsafeBytes(of: UInt32(count).bigEndian) { length in
                    for index in 0..<4 { chunk[index] = length[index] }
                }
                // A zero-length chunk is INSTREAM's end of stream: the last pass sends just that.
                try Descriptor.writeAll(socket, chunk, count: 4 + count, until: .now + deadline)
                if count == 0 { break }
            }
        } catch .system(call: "send", errno: let code) where code == EPIPE || code == ECONNRESET {
            // clamd closes the stream early when it refuses it (StreamMaxLength): its answer says why.
            return readAnswer(socket).flatMap { Self.verdict(answer: $0, address: address) }
        } catch .timedOut {
            return .failure(IntakeError(.unavailable, "clamd at \(address) did not take the file within \(deadline)"))
        } catch {
            return .failure(IntakeError(.unavailable, "sending the file to clamd at \(address) failed: \(error)"))
        }
        return readAnswer(socket).flatMap { Self.verdict(answer: $0, address: address) }
    }

    /// Reads clamd's NUL-terminated answer (or up to its closing the connection).
    private func readAnswer(_ socket: Int32) -> Result<String, IntakeError> {
        let until = ContinuousClock.now + deadline
        var answer: [UInt8] = []
        while answer.last != 0 {
            do {
                _ = try Descriptor.wait([socket], for: Int16(POLLIN), until: until)
                guard let bytes = try Descriptor.readAvailable(socket, limit: 4096) else { break }
                answer += bytes
                if answer.count > 64 * 1024 {
                    return .failure(IntakeError(.unavailable, "clamd at \(address) answered more than an INSTREAM answer"))
                }
            } catch .timedOut {
                return .failure(IntakeError(.unavailable, "clamd at \(address) did not answer within \(deadline)"))
            } catch {
                return .failure(IntakeError(.unavailable, "reading clamd's answer at \(address) failed: \(error)"))
            }
        }
        if answer.last == 0 { answer.removeLast() }
        guard !answer.isEmpty else {
            return .failure(IntakeError(.unavailable, "clamd at \(address) closed the connection without an answer"))
        }
        return .success(String(decoding: answer, as: UTF8.self).trimmingSuffix { $0.isNewline })
    }

    private func connectToClamd() -> Result<Int32, IntakeError> {
        let until = ContinuousClock.now + deadline
        let unavailable = { (why: String) in IntakeError(.unavailable, "clamd at \(address) is unreachable: \(why)") }
        switch address {
        case .unix(let path):
            var socketAddress = sockaddr_un()
            socketAddress.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
            guard path.utf8.count < capacity else { return .failure(unavailable("the socket path is too long")) }
            withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
                for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
            }
            let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return .failure(unavailable(Descriptor.message(errno))) }
            return withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Self.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size), until: until)
                }
            }.mapError { unavailable($0.reason) }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                return .failure(unavailable("its host does not resolve: \(String(cString: gai_strerror(status)))"))
            }
            defer { freeaddrinfo(list) }
            let fd = Glibc.socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return .failure(unavailable(Descriptor.message(errno))) }
            return Self.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen, until: until).mapError { unavailable($0.reason) }
        }
    }

    struct ConnectFailure: Error {
        var reason: String
    }

    private static func connect(
        _ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, until: ContinuousClock.Instant
    ) -> Result<Int32, ConnectFailure> {
        Descriptor.setNonBlocking(fd)
        if Glibc.connect(fd, address, length) != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else {
                close(fd)
                return .failure(ConnectFailure(reason: code == EAGAIN ? "its listen queue is full" : Descriptor.message(code)))
            }
            do {
                _ = try Descriptor.wait([fd], for: Int16(POLLOUT), until: until)
            } catch {
                close(fd)
                return .failure(ConnectFailure(reason: "no connection within the deadline"))
            }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            guard soError == 0 else {
                close(fd)
                return .failure(ConnectFailure(reason: Descriptor.message(soError)))
            }
        }
        return .success(fd)
    }
}

extension String {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var text = self[...]
        while let last = text.last, predicate(last) { text = text.dropLast() }
        return String(text)
    }
}
