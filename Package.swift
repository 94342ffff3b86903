// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-microbench", targets: ["vigil-microbench"]),
        .executable(name: "vigil-kafka-mock", targets: ["vigil-kafka-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(name: "VigilDomain", swiftSettings: swiftSettings),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(name: "VigilJSON", swiftSettings: swiftSettings),
        .target(name: "CVigilSystem"),
        .target(
            name: "VigilProtection",
            dependencies: ["VigilDomain", "VigilJSON", "CVigilSystem", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilGateway",
            dependencies: ["VigilDomain", "VigilProtection", "VigilJSON"],
            swiftSettings: swiftSettings
        ),
        .target(name: "VigilFeatures", dependencies: ["VigilDomain"], swiftSettings: swiftSettings),
        .target(name: "VigilTrees", dependencies: ["VigilJSON"], swiftSettings: swiftSettings),
        .target(name: "VigilRules", swiftSettings: swiftSettings),
        .target(name: "VigilEventLog", swiftSettings: swiftSettings),
        .target(
            name: "VigilEngine",
            dependencies: [
                "VigilDomain", "VigilJSON", "VigilFeatures", "VigilTrees", "VigilTraining", "VigilRules", "VigilEventLog",
            ],
            resources: [.copy("Resources/model.json")],
            swiftSettings: swiftSettings
        ),
        .target(name: "VigilEvaluation", swiftSettings: swiftSettings),
        .target(name: "VigilSimulation", dependencies: ["VigilDomain"], swiftSettings: swiftSettings),
        .target(
            name: "VigilBench",
            dependencies: [
                "VigilSimulation", "VigilDomain", "VigilEvaluation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "VigilTraining", dependencies: ["VigilTrees", "VigilJSON"], swiftSettings: swiftSettings),
        .target(
            name: "VigilRedis",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "VigilKafka", dependencies: ["CRdKafka"], swiftSettings: swiftSettings),
        // The Kafka client's uses by the service: the event stream sink and the report's topic source. Apart from
        // VigilKafka, as VigilRedisState is from VigilRedis, so the client does not depend on the server.
        .target(
            name: "VigilKafkaStream",
            dependencies: ["VigilKafka", "VigilServer", "VigilReporting", "VigilEngine", "VigilJSON"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilPostgres",
            dependencies: [
                "VigilProtection", "VigilFiles",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilOffline",
            dependencies: ["VigilDomain", "VigilProtection", "VigilGateway", "VigilFeatures", "VigilEngine", "VigilFiles"],
            swiftSettings: swiftSettings
        ),
        // Daily files from banks: formats, validation and the intake pipeline (inbox, scan, open, parse, tokenise,
        // load, metadata). Its back ends (clamd, gpg) are adapters in VigilIntake, behind the protocols declared here.
        .target(
            name: "VigilFiles",
            dependencies: [
                "VigilDomain", "VigilProtection", "VigilGateway", "VigilJSON", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The intake's adapters: clamd (INSTREAM over a socket) and gpg (a child process in a private GNUPGHOME), behind
        // VigilFiles' MalwareScanner and FileOpener. Only the `vigil` executable and tests import it.
        .target(
            name: "VigilIntake",
            dependencies: ["VigilFiles", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // ISO 20022 in: a safe XML reader, pacs.008 / pacs.002 / camt.056 in XML and Tazama's JSON, their mapping onto
        // the gateway's payment and the daily files' label records, and a corpus generator for tests and `vigil iso20022`.
        .target(
            name: "VigilISO20022", dependencies: ["VigilDomain", "VigilGateway", "VigilFiles", "VigilJSON"], swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilReporting",
            dependencies: ["VigilDomain", "VigilEngine", "VigilEventLog", "VigilJSON", "VigilTraining", "VigilFeatures", "VigilEvaluation"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilServer",
            dependencies: [
                "VigilDomain", "VigilProtection", "VigilGateway", "VigilEngine", "VigilEventLog", "VigilFeatures",
                "VigilRules", "VigilJSON", "VigilFiles", "VigilTraining", "VigilISO20022",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilRedisState",
            dependencies: [
                "VigilRedis", "VigilServer", "VigilEngine", "VigilFeatures", "VigilDomain",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .plugin(name: "GitCommitPlugin", capability: .buildTool()),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilServer", "VigilEngine", "VigilProtection", "VigilEventLog", "VigilTrees", "VigilRules",
                "VigilFeatures", "VigilDomain", "VigilGateway", "VigilOffline", "VigilEvaluation", "VigilTraining", "VigilSimulation", "VigilBench",
                "VigilRedisState", "VigilRedis", "VigilKafka",
                "VigilPostgres",
                "VigilReporting", "VigilKafkaStream", "VigilFiles", "VigilIntake", "VigilISO20022",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["GitCommitPlugin"]
        ),
        .executableTarget(
            name: "vigil-microbench",
            dependencies: [
                "VigilDomain", "VigilProtection", "VigilGateway", "VigilFeatures", "VigilTrees", "VigilRules", "VigilEventLog",
                "VigilEngine", "VigilSimulation", "VigilServer", "VigilFiles", "VigilTraining", "VigilISO20022",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/VigilMicroBenchmarks",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "vigil-kafka-mock",
            dependencies: ["VigilKafka", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/VigilKafkaMock",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VigilDomainTests", dependencies: ["VigilDomain"], swiftSettings: swiftSettings),
        .testTarget(name: "VigilJSONTests", dependencies: ["VigilJSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VigilProtectionTests",
            dependencies: ["VigilProtection", "VigilDomain", "VigilJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilGatewayTests", dependencies: ["VigilGateway", "VigilDomain", "VigilProtection", "VigilJSON"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilStateTesting", dependencies: ["VigilFeatures", "VigilEngine", "VigilRedis", "VigilRedisState"],
            path: "Tests/VigilStateTesting", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilFeaturesTests", dependencies: ["VigilFeatures", "VigilDomain", "VigilStateTesting"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilTreesTests", dependencies: ["VigilTrees", "VigilJSON"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VigilRulesTests", dependencies: ["VigilRules"], swiftSettings: swiftSettings),
        .testTarget(name: "VigilEventLogTests", dependencies: ["VigilEventLog"], swiftSettings: swiftSettings),
        .testTarget(name: "VigilEvaluationTests", dependencies: ["VigilEvaluation"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VigilSimulationTests", dependencies: ["VigilSimulation", "VigilDomain", "VigilGateway"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilRedisTests",
            dependencies: [
                "VigilRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilRedisStateTests",
            dependencies: [
                "VigilRedisState", "VigilRedis", "VigilServer", "VigilEngine", "VigilEventLog", "VigilFeatures", "VigilDomain",
                "VigilStateTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilPostgresTests",
            dependencies: [
                "VigilPostgres", "VigilServer", "VigilProtection", "VigilDomain", "VigilFiles", "VigilEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilKafkaTests",
            dependencies: [
                "VigilKafka", "CRdKafka", "VigilKafkaStream", "VigilServer", "VigilReporting", "VigilEngine", "VigilEventLog",
                "VigilDomain", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilReportingTests",
            dependencies: [
                "VigilReporting", "VigilEngine", "VigilDomain", "VigilEventLog", "VigilTraining", "VigilTrees", "VigilFeatures", "VigilRules",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilIntakeTests", dependencies: ["VigilIntake", "VigilFiles"], swiftSettings: swiftSettings
        ),
        .testTarget(name: "VigilTrainingTests", dependencies: ["VigilTraining", "VigilTrees", "VigilJSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VigilOfflineTests",
            dependencies: ["VigilOffline", "VigilDomain", "VigilGateway", "VigilFeatures", "VigilProtection", "VigilFiles", "VigilEngine", "VigilEventLog", "VigilServer"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilEngineTests",
            dependencies: [
                "VigilEngine", "VigilDomain", "VigilEventLog", "VigilFeatures", "VigilRules", "VigilTrees", "VigilTraining", "VigilStateTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilFilesTests",
            dependencies: [
                "VigilFiles", "VigilDomain", "VigilGateway", "VigilProtection", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilISO20022Tests",
            dependencies: ["VigilISO20022", "VigilDomain", "VigilGateway", "VigilFiles", "VigilJSON", "VigilSimulation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VigilServerTests",
            dependencies: [
                "VigilServer", "VigilDomain", "VigilEventLog", "VigilEngine", "VigilFeatures", "VigilProtection", "VigilFiles",
                "VigilTraining", "VigilISO20022", "VigilGateway", "VigilSimulation",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
