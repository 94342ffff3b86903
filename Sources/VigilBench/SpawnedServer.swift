import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `vigil serve` child process on a free port with a fresh data directory, for `vigil bench --spawn`.
public final class SpawnedServer {
    public let host: String
    public let port: Int
    /// The demo tenant's API key, which the first start writes to `DATA/demo.key`.
    public let apiKey: String
    public let pid: Int32
    public let dataDirectory: String
    private let process: Process

    private init(host: String, port: Int, apiKey: String, process: Process, dataDirectory: String) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.process = process
        self.pid = process.processIdentifier
        self.dataDirectory = dataDirectory
    }

    /// Starts `executable serve --port 0 --data-dir TEMP` plus `arguments`, reads the port it prints, waits for
    /// `/ready` and reads the demo key.
    /// - Throws: `BenchError` with code `server`, with the end of the server's stderr when it died.
    public static func start(executable: String, arguments: [String] = [], timeout: Duration = .seconds(30)) async throws(BenchError) -> SpawnedServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-bench-server-\(UInt32.random(in: .min ... .max))").path
        do {
            try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        } catch {
            throw BenchError(code: .server, message: "cannot create a temporary data directory")
        }
        let stderrPath = directory + "/stderr.log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", directory + "/data"] + arguments
        // The load replays a simulated history, dated from 2026-01-01: with the widest lag the server computes its
        // features at each payment's own time, as the figures in BENCHMARKS.md were measured, not all at "now".
        var environment = ProcessInfo.processInfo.environment
        environment["VIGIL_CREATED_AT_LAG_SECONDS"] = environment["VIGIL_CREATED_AT_LAG_SECONDS"] ?? String(3660 * 86_400)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchError(code: .server, message: "cannot start \(executable) serve: \(error)")
        }
        func failure(_ message: String) -> BenchError {
            if process.isRunning { process.terminate() }
            let tail = (try? String(contentsOfFile: stderrPath, encoding: .utf8))?.split(separator: "\n").suffix(5)
                .joined(separator: "\n") ?? ""
            return BenchError(code: .server, message: tail.isEmpty ? message : "\(message)\n\(tail)")
        }
        let deadline = ContinuousClock.now + timeout
        guard let (host, port) = readListeningLine(fd: output.fileHandleForReading.fileDescriptor, until: deadline) else {
            throw failure("the spawned server did not print its address")
        }
        guard await waitReady(host: host, port: port, until: deadline) else {
            throw failure("the spawned server did not become ready")
        }
        guard let key = (try? String(contentsOfFile: directory + "/data/demo.key", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty
        else {
            throw failure("the spawned server wrote no demo.key")
        }
        return SpawnedServer(host: host, port: port, apiKey: key, process: process, dataDirectory: directory)
    }

    /// SIGTERM, then SIGKILL after `grace`; removes the temporary data directory.
    public func stop(grace: Duration = .seconds(10)) async {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + grace
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Reads stdout until `vigil: listening on http://HOST:PORT`, without blocking past `deadline`.
    private static func readListeningLine(fd: Int32, until deadline: ContinuousClock.Instant) -> (String, Int)? {
        let marker = "vigil: listening on http://"
        var text = ""
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return nil }
            guard poller.revents != 0 else { continue }
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { return nil }
            text += String(decoding: chunk[0..<count], as: UTF8.self)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                guard let range = line.range(of: marker) else { continue }
                let address = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                    continue
                }
                var host = String(address[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                return (host, port)
            }
        }
        return nil
    }

    private static func waitReady(host: String, port: Int, until deadline: ContinuousClock.Instant) async -> Bool {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        while ContinuousClock.now < deadline {
            if await statusOf(host: host, port: port, path: "/ready", group: group) == 200 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// The status of one `GET path`, or nil when there was no answer.
func statusOf(host: String, port: Int, path: String, group: any EventLoopGroup) async -> UInt? {
    let loop = group.next()
    let promise = loop.makePromise(of: UInt.self)
    let connected = ClientBootstrap(group: loop)
        .connectTimeout(.seconds(2))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(StatusProbeHandler(promise: promise))
            }
        }
        .connect(host: host, port: port)
    connected.whenFailure { promise.fail($0) }
    connected.whenSuccess { channel in
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        loop.scheduleTask(in: .seconds(2)) { promise.fail(ChannelError.connectTimeout(.seconds(2))) }
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
    return try? await promise.futureResult.get()
}

/// Completes its promise with the first answer's status.
private final class StatusProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<UInt>

    init(promise: EventLoopPromise<UInt>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { promise.succeed(head.status.code) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// The resident set of a local process in bytes (`VmRSS` in /proc/PID/status), nil when unknown.
public func residentSetBytes(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
        return kib * 1024
    }
    return nil
}
