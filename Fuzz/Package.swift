// swift-tools-version: 6.1
// libFuzzer targets for the code that reads untrusted input: request bodies (JSON and ISO 20022), tenant rule files
// and event-log records.
//
// A package of its own so that `swift build` of the main package never builds an executable without a
// `main`. The library targets are symlinks to `../Sources/<Target>`, so the fuzzers exercise the very code
// the server runs. Build and run with `scripts/fuzz`; see docs/fuzzing.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "vigil-fuzz",
    platforms: [.macOS(.v15)],
    targets: [
        .target(name: "VigilDomain", swiftSettings: swiftSettings),
        .target(name: "VigilJSON", swiftSettings: swiftSettings),
        .target(
            name: "VigilGateway",
            dependencies: ["VigilDomain", "VigilJSON"],
            // Tokenisation needs VigilProtection and so swift-crypto's BoringSSL, which would double the
            // build; the request decoder does not use it.
            exclude: ["Gateway.swift"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VigilISO20022",
            dependencies: ["VigilDomain", "VigilGateway", "VigilJSON"],
            // The pacs.002/camt.056 mapping onto the daily files' records needs VigilFiles and so swift-crypto; the
            // readers and the pacs.008 mapping do not.
            exclude: ["LabelMapping.swift"],
            swiftSettings: swiftSettings
        ),
        .target(name: "VigilFeatures", dependencies: ["VigilDomain"], swiftSettings: swiftSettings),
        .target(name: "VigilTrees", dependencies: ["VigilJSON"], swiftSettings: swiftSettings),
        .target(name: "VigilTraining", dependencies: ["VigilTrees"], swiftSettings: swiftSettings),
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
        .executableTarget(
            name: "FuzzPaymentRequest",
            dependencies: ["VigilGateway", "VigilDomain", "VigilJSON"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzISO20022",
            dependencies: ["VigilISO20022", "VigilGateway", "VigilDomain"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzEventRecord",
            dependencies: ["VigilEngine", "VigilDomain"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzRules",
            dependencies: ["VigilEngine", "VigilRules"],
            swiftSettings: swiftSettings
        ),
    ]
)
