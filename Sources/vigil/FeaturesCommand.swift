import ArgumentParser
import VigilFeatures

struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "Inspect Vigil's features.", subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every feature: name, reason code and description.")

        func run() async throws {
            for feature in Feature.allCases {
                print("\(feature.name)\t\(feature.reasonCode)\t\(feature.summary)")
            }
        }
    }
}
