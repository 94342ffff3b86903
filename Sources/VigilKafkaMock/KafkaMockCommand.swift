import ArgumentParser
import VigilKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `vigil-kafka-mock`: hosts librdkafka's mock cluster, a test double of Kafka, for black-box tests and local runs.
@main
struct KafkaMockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-kafka-mock",
        abstract: "Host librdkafka's mock Kafka cluster (a test double, not a Kafka broker) on loopback ports.",
        discussion: """
            Prints the brokers' bootstrap list (host:port,…) as the first line on stdout, then stays up until SIGTERM \
            or SIGINT. The mock keeps messages in memory only; it exists for tests.

            Control commands, one per line on stdin; each is answered with one line, `ok` or `error: <reason>`:
              down <broker-id>                       take a broker down (brokers are numbered from 1)
              up <broker-id>                         bring it back
              error <api> <count> <error-name>       fail the next <count> requests of a Kafka API (a number, or \
            Produce, Fetch, Metadata, …) with librdkafka's error, e.g. `error Produce 2 NOT_LEADER_FOR_PARTITION`
              topic <name> <partitions> <replicas>   create a topic (otherwise topics are created on first use)
            """
    )

    @Option(help: "Number of mock brokers.")
    var brokers: Int = 3

    func validate() throws {
        guard (1...64).contains(brokers) else { throw ValidationError("--brokers must be 1 to 64") }
    }

    func run() throws {
        // Block the stop signals before librdkafka starts its threads, so they inherit the mask and only sigwait
        // below receives them.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

        let cluster = try KafkaMockCluster(brokers: brokers)
        reply(cluster.bootstrapServers)

        var reader = pthread_t()
        let context = Unmanaged.passRetained(cluster).toOpaque()
        guard pthread_create(&reader, nil, readControlCommands, context) == 0 else {
            throw ValidationError("could not start the control thread")
        }
        pthread_detach(reader)

        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        // The reader thread keeps its reference; process exit ends it, and the cluster is torn down by exit.
        _exit(0)
    }
}

private func reply(_ line: String) {
    print(line)
    fflush(nil)  // every output stream: stdout is not concurrency-safe to name in Swift 6
}

private func readControlCommands(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let cluster = Unmanaged<KafkaMockCluster>.fromOpaque(context!).takeUnretainedValue()
    while let line = readLine() {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !words.isEmpty else { continue }
        do {
            try ControlCommand(words: words).apply(to: cluster)
            reply("ok")
        } catch let error as ControlCommand.ParseError {
            reply("error: \(error.reason)")
        } catch let error as KafkaError {
            reply("error: \(error.errorName): \(error.message)")
        } catch {
            reply("error: \(error)")
        }
    }
    return nil
}

/// One line of the control protocol on stdin.
enum ControlCommand {
    case down(broker: Int)
    case up(broker: Int)
    case requestErrors(apiKey: Int, count: Int, errorName: String)
    case topic(name: String, partitions: Int, replicas: Int)

    struct ParseError: Error {
        var reason: String
    }

    /// Kafka protocol API keys by name, for the `error` command.
    static let apiKeys: [String: Int] = [
        "produce": 0, "fetch": 1, "listoffsets": 2, "metadata": 3, "offsetcommit": 8, "offsetfetch": 9,
        "findcoordinator": 10, "joingroup": 11, "heartbeat": 12, "syncgroup": 14, "apiversions": 18,
        "initproducerid": 22,
    ]

    init(words: [String]) throws {
        func number(_ word: String, _ what: String) throws -> Int {
            guard let value = Int(word) else { throw ParseError(reason: "\(what) must be a number") }
            return value
        }
        switch (words[0], words.count) {
        case ("down", 2): self = .down(broker: try number(words[1], "the broker id"))
        case ("up", 2): self = .up(broker: try number(words[1], "the broker id"))
        case ("error", 4):
            let apiKey = try Self.apiKeys[words[1].lowercased()] ?? number(words[1], "the API (a name or key)")
            self = .requestErrors(apiKey: apiKey, count: try number(words[2], "the count"), errorName: words[3])
        case ("topic", 4):
            self = .topic(
                name: words[1], partitions: try number(words[2], "the partition count"),
                replicas: try number(words[3], "the replication factor")
            )
        default:
            throw ParseError(
                reason: "unknown command or wrong arguments; use down <id>, up <id>, error <api> <count> <name>, "
                    + "topic <name> <partitions> <replicas>"
            )
        }
    }

    func apply(to cluster: KafkaMockCluster) throws {
        switch self {
        case .down(let broker): try cluster.setDown(broker: broker)
        case .up(let broker): try cluster.setUp(broker: broker)
        case .requestErrors(let apiKey, let count, let errorName):
            try cluster.pushRequestErrors(apiKey: apiKey, count: count, errorName: errorName)
        case .topic(let name, let partitions, let replicas):
            try cluster.createTopic(name, partitions: partitions, replicationFactor: replicas)
        }
    }
}
