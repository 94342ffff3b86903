import ArgumentParser
import Foundation
import VigilBench

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a Vigil server over HTTP and report throughput and latency percentiles.",
        discussion: """
            Closed loop (the default) sends the next request on each connection as soon as the answer to the \
            previous one arrives: the maximum throughput. With --rate, open loop offers a constant arrival rate and \
            measures each latency from the request's intended send time, so a stall is not hidden by the client \
            waiting (no coordinated omission). Payments come from a `vigil simulate` population, each with a \
            run-unique id. --path other than /v1/payments/score sends GETs (e.g. --path /health).

            Target: --url with --tenant-key or --data-dir, or --spawn to start `vigil serve` on a free port with a \
            fresh data directory (stopped at the end).

            --sweep 1,4,16,64,256 runs the closed-loop scaling curve: at each connection count, GET /health (the \
            server's ceiling) and then the scoring POST, each for --warmup + --duration; it prints a Markdown table \
            (or --json) and with --svg writes the curve as a chart.
            """
    )

    @Option(help: ArgumentHelp(
        "Server base URL, http:// or https:// (e.g. http://127.0.0.1:8080); with several, comma-separated, connections move to the next when one cannot be reached or answers 502/503/504 (another region's).",
        valueName: "url[,url…]"
    ))
    var url: String?
    @Flag(help: "Start `vigil serve --port 0` with a temporary data directory and load it.") var spawn = false
    @Option(name: .customLong("tenant-key"), help: "API key to send as a bearer token.") var tenantKey: String?
    @Option(name: .customLong("data-dir"), help: "Server data directory to read demo.key from.") var dataDir: String?
    @Option(help: "Request path; POST with payments for /v1/payments/score, GET otherwise.") var path = "/v1/payments/score"
    @Option(help: "Open loop at this many requests a second (default: closed loop).") var rate: Double?
    @Option(help: "Keep-alive connections, one request in flight on each.") var connections = 16
    @Option(help: "Measured seconds.") var duration: Double = 10
    @Option(help: "Seconds of load before measuring.") var warmup: Double = 2
    @Option(name: .customLong("drain-timeout"), help: "Seconds to await outstanding answers after the end; then they count as timeouts.")
    var drainTimeout: Double = 5
    @Option(help: "Event-loop threads (default: one per core).") var threads: Int?
    @Option(help: "Distinct simulated payments to cycle through.") var population = 100_000
    @Option(help: "Simulation seed of the payments.") var seed: UInt64 = 1
    @Flag(help: "Do not verify the server's TLS certificate (self-signed test certificates).") var insecure = false
    @Option(help: "PEM file of CA certificates to trust for https.") var ca: String?
    @Option(name: .customLong("client-cert"), help: "PEM client certificate for a server that requires one (mutual TLS).")
    var clientCert: String?
    @Option(name: .customLong("client-key"), help: "PEM private key of --client-cert.") var clientKey: String?
    @Option(name: .customLong("server-pid"), help: "Process id of a local server whose RSS to report.") var serverPid: Int32?
    @Option(help: "With --spawn: the server's durability, fsync or async (default: the server's).") var durability: String?
    @Flag(help: "Print one JSON object instead of the text report.") var json = false
    @Option(help: ArgumentHelp(
        "Write one JSON line per scoring request sent (warm-up included) to this file: paymentId, url, status (null when no answer came), error, scoreId, duplicate, and request (the body sent).",
        valueName: "file"
    ))
    var record: String?
    @Option(help: "Closed-loop sweep over these connection counts (comma-separated), /health and scoring at each.")
    var sweep: String?
    @Option(help: "With --sweep: write the scaling curve as an SVG chart to this file.") var svg: String?

    func validate() throws {
        if spawn, url != nil { throw ValidationError("use either --url or --spawn, not both") }
        if !spawn, url == nil { throw ValidationError("give --url URL or --spawn") }
        if spawn, tenantKey != nil || dataDir != nil {
            throw ValidationError("--tenant-key and --data-dir are for --url; --spawn uses its own server's key")
        }
        if tenantKey != nil, dataDir != nil { throw ValidationError("use either --tenant-key or --data-dir, not both") }
        if url != nil, path == Self.scorePath, tenantKey == nil, dataDir == nil {
            throw ValidationError("--url needs --tenant-key KEY or --data-dir DIR (for DIR/demo.key)")
        }
        if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate must be a positive number") }
        if connections <= 0 { throw ValidationError("--connections must be positive") }
        if !(duration > 0 && duration.isFinite) { throw ValidationError("--duration must be positive") }
        if !(warmup >= 0 && warmup.isFinite) { throw ValidationError("--warmup must not be negative") }
        if !(drainTimeout >= 0 && drainTimeout.isFinite) { throw ValidationError("--drain-timeout must not be negative") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        if population <= 0 { throw ValidationError("--population must be positive") }
        if !path.hasPrefix("/") { throw ValidationError("--path must start with /") }
        if let durability, !["fsync", "async"].contains(durability) { throw ValidationError("--durability must be fsync or async") }
        if durability != nil, !spawn { throw ValidationError("--durability only applies with --spawn") }
        if (insecure || ca != nil), let url, !url.split(separator: ",").allSatisfy({ $0.lowercased().hasPrefix("https://") }) {
            throw ValidationError("--insecure and --ca apply only to an https:// URL")
        }
        if (clientCert == nil) != (clientKey == nil) { throw ValidationError("--client-cert and --client-key go together") }
        if clientCert != nil, !(url ?? "").split(separator: ",").allSatisfy({ $0.lowercased().hasPrefix("https://") }) {
            throw ValidationError("--client-cert and --client-key apply only to an https:// URL")
        }
        if svg != nil, sweep == nil { throw ValidationError("--svg needs --sweep") }
        if record != nil, sweep != nil { throw ValidationError("--record is for one run; leave out --sweep") }
        if record != nil, path != Self.scorePath { throw ValidationError("--record needs the scoring path \(Self.scorePath)") }
        if sweep != nil {
            if rate != nil { throw ValidationError("--sweep is closed loop; leave out --rate") }
            if path != Self.scorePath { throw ValidationError("--sweep runs /health and \(Self.scorePath); leave out --path") }
            _ = try sweepCounts()
        }
    }

    /// The connection counts of --sweep, in the order given.
    func sweepCounts() throws -> [Int] {
        let parts = (sweep ?? "").split(separator: ",", omittingEmptySubsequences: false)
        let counts = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, counts.count == parts.count, counts.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sweep must be positive connection counts separated by commas, such as 1,4,16,64,256")
        }
        return counts
    }

    static let scorePath = "/v1/payments/score"

    func run() async throws {
        let posting = path == Self.scorePath
        var server: SpawnedServer?
        var host = ""
        var port = 0
        var tls: LoadPlan.TLS?
        var key = tenantKey
        var baseURL = ""
        var failover: [LoadPlan.Endpoint] = []
        if !spawn {
            let targets = try (url ?? "").split(separator: ",", omittingEmptySubsequences: false).map { try Self.parse(url: String($0)) }
            guard let target = targets.first, targets.allSatisfy({ $0.secure == target.secure }) else {
                throw CLIError("--url: give every server with the same scheme, all http:// or all https://")
            }
            host = target.host
            port = target.port
            failover = targets.dropFirst().map { LoadPlan.Endpoint(host: $0.host, port: $0.port) }
            baseURL = targets.map(\.base).joined(separator: ",")
            if target.secure {
                tls = LoadPlan.TLS(verify: !insecure, caFile: ca, clientCertificateFile: clientCert, clientKeyFile: clientKey)
            }
            if let dataDir {
                guard let text = try? String(contentsOfFile: dataDir + "/demo.key", encoding: .utf8),
                    !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                else { throw CLIError("cannot read \(dataDir)/demo.key") }
                key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var payments: PaymentPopulation?
        if posting {
            do {
                payments = try PaymentPopulation.simulated(seed: seed, payments: population)
            } catch {
                throw CLIError(error.message)
            }
        }
        if spawn {
            let started: SpawnedServer
            do {
                started = try await SpawnedServer.start(
                    executable: Self.currentExecutable(), arguments: durability.map { ["--durability", $0] } ?? []
                )
            } catch {
                throw CLIError(error.message)
            }
            server = started
            host = started.host
            port = started.port
            key = started.apiKey
            baseURL = "http://\(host):\(port)"
        }

        let target = Target(
            host: host, port: port, failover: failover, tls: tls, key: key, baseURL: baseURL, payments: payments,
            rssPid: serverPid ?? server?.pid
        )
        let output: String
        do {
            output = try await sweep == nil ? single(target) : curve(target)
        } catch {
            await server?.stop()
            throw error
        }
        await server?.stop()
        print(output)
    }

    /// The server under load and what to send it.
    struct Target {
        var host: String
        var port: Int
        /// The servers to move to when the first cannot be reached or answers 502/503/504.
        var failover: [LoadPlan.Endpoint]
        var tls: LoadPlan.TLS?
        var key: String?
        var baseURL: String
        /// The scoring bodies; nil for a GET path.
        var payments: PaymentPopulation?
        /// The local server whose RSS to report.
        var rssPid: Int32?
    }

    func plan(_ target: Target, path: String, connections: Int) -> LoadPlan {
        var plan = LoadPlan(
            host: target.host, port: target.port, tls: target.tls, path: path, apiKey: target.key, connections: connections,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, mode: rate.map { .open(rate: $0) } ?? .closed,
            warmup: .milliseconds(Int64(warmup * 1000)), duration: .milliseconds(Int64(duration * 1000)),
            drainTimeout: .milliseconds(Int64(drainTimeout * 1000))
        )
        plan.failover = target.failover
        return plan
    }

    func load(_ plan: LoadPlan, payments: PaymentPopulation?) async throws -> LoadResult {
        do {
            return try await runLoad(plan, payments: payments)
        } catch {
            throw CLIError(error.message)
        }
    }

    /// One run: the text report, or its JSON.
    func single(_ target: Target) async throws -> String {
        var plan = plan(target, path: path, connections: connections)
        plan.recordRequests = record != nil
        let result = try await load(plan, payments: target.payments)
        if let record {
            let urls = target.baseURL.split(separator: ",").map(String.init)
            let lines = result.requests.map { $0.jsonLine(urls: urls) + "\n" }.joined()
            do {
                try Data(lines.utf8).write(to: URL(fileURLWithPath: record))
            } catch {
                throw CLIError("cannot write \(record): \(error.localizedDescription)")
            }
        }
        let report = BenchReport(
            commandLine: CommandLine.arguments.joined(separator: " "), url: target.baseURL,
            method: target.payments == nil ? "GET" : "POST", path: path, mode: plan.mode, connections: connections,
            threads: plan.threads, warmupSeconds: warmup, durationSeconds: duration, result: result,
            serverRssBytes: target.rssPid.flatMap(residentSetBytes(pid:))
        )
        return json ? report.json : report.text
    }

    /// The scaling curve: /health, then scoring, at each connection count of --sweep.
    func curve(_ target: Target) async throws -> String {
        var points: [ScalingPoint] = []
        for count in try sweepCounts() {
            let health = try await load(plan(target, path: "/health", connections: count), payments: nil)
            let score = try await load(plan(target, path: path, connections: count), payments: target.payments)
            points.append(ScalingPoint(connections: count, health: health, score: score))
        }
        let report = ScalingReport(
            commandLine: CommandLine.arguments.joined(separator: " "), url: target.baseURL,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, warmupSeconds: warmup, durationSeconds: duration,
            points: points, serverRssBytes: target.rssPid.flatMap(residentSetBytes(pid:))
        )
        if let svg {
            do {
                try Data(report.svg.utf8).write(to: URL(fileURLWithPath: svg))
            } catch {
                throw CLIError("cannot write \(svg): \(error.localizedDescription)")
            }
        }
        return json ? report.json : report.markdown
    }

    /// This binary, to run `serve` from.
    static func currentExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return CommandLine.arguments[0]
    }

    static func parse(url text: String) throws -> (host: String, port: Int, secure: Bool, base: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw CLIError("--url must be an http:// or https:// URL with a host, such as http://127.0.0.1:8080")
        }
        if !components.path.isEmpty, components.path != "/" {
            throw CLIError("--url is the server's base URL; give the request path with --path")
        }
        let secure = scheme == "https"
        let port = components.port ?? (secure ? 443 : 80)
        guard (1...65535).contains(port) else { throw CLIError("--url has a bad port") }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return (bare, port, secure, "\(scheme)://\(host):\(port)")
    }
}
