import Foundation
import Testing
import VigilServer

/// `region`, `peerRegion`, `peerState`, `peerStream` and `peerWriteTimeoutMilliseconds`: read from the environment
/// and the config file like every other key, and refused with a message naming the setting when they do not fit.
struct RegionConfigurationTests {
    static func shared() -> VigilConfiguration {
        var configuration = VigilConfiguration()
        configuration.state = "redis://127.0.0.1:6379"
        return configuration
    }

    @Test func theEnvironmentSetsTheRegionAndItsPeer() throws {
        var configuration = Self.shared()
        try configuration.applyEnvironment([
            "VIGIL_REGION": "eu-west", "VIGIL_PEER_REGION": "eu-central", "VIGIL_PEER_STATE": "redis://10.1.0.5:6379",
            "VIGIL_PEER_STREAM": "kafka://10.1.0.6:9092", "VIGIL_PEER_WRITE_TIMEOUT_MS": "250",
        ])
        try configuration.validate()
        #expect(configuration.region == "eu-west")
        #expect(configuration.peerRegion == "eu-central")
        #expect(configuration.peerState == "redis://10.1.0.5:6379")
        #expect(configuration.peerStream == "kafka://10.1.0.6:9092")
        #expect(configuration.peerWriteTimeoutMilliseconds == 250)
    }

    @Test func theConfigFileSetsTheRegion() throws {
        let path = temporaryDataDirectory() + ".json"
        try #"{"state": "redis://127.0.0.1:6379", "region": "a", "peerRegion": "b", "peerState": "rediss://peer:6380"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try VigilConfiguration.load(file: path)
        try configuration.validate()
        #expect(configuration.region == "a")
        #expect(configuration.peerRegion == "b")
        #expect(configuration.peerState == "rediss://peer:6380")
        #expect(configuration.peerWriteTimeoutMilliseconds == 100)
    }

    @Test(arguments: [
        (["region": "EU West"], "region must be 1–63 lower-case letters, digits, '-' or '_'"),
        (["region": "a", "peerRegion": ""], "peerRegion must be 1–63 lower-case letters, digits, '-' or '_'"),
        (["peerRegion": "b"], "a peer region (peerRegion, --peer-region) needs this node's own region (region, --region)"),
        (["region": "a", "peerRegion": "a"], "peerRegion (--peer-region) must name the other region, not this node's own"),
        (["region": "a", "peerState": "redis://p:6379"], "peerState (--peer-state) needs the peer region's name (peerRegion, --peer-region)"),
        (["region": "a", "peerStream": "kafka://p:9092"], "peerStream (--peer-stream) needs the peer region's name (peerRegion, --peer-region)"),
        (["region": "a", "peerRegion": "b", "peerState": "redis+cluster://p:6379"],
         "peerState must be redis://host:port or rediss://host:port (the peer region's Valkey/Redis)"),
        (["region": "a", "peerRegion": "b", "peerStream": "kafka://"], "peerStream must be kafka://host:port[,host:port…] (the peer region's Kafka)"),
        (["region": "a", "peerRegion": "b", "peerStream": "http://p:9092"], "peerStream must be kafka://host:port[,host:port…] (the peer region's Kafka)"),
        (["region": "a", "peerRegion": "b", "peerWriteTimeoutMilliseconds": "5"], "peerWriteTimeoutMilliseconds must be between 10 and 5000"),
        (["region": "a", "peerRegion": "b", "peerState": "redis://p:6379", "state": "memory"],
         "peerState (--peer-state) needs a shared state store (state, --state redis://…): a region's nodes share its Redis"),
    ])
    func aRegionSettingThatDoesNotFitIsRefusedByName(settings: [String: String], message: String) {
        var configuration = Self.shared()
        for (key, value) in settings {
            switch key {
            case "region": configuration.region = value
            case "peerRegion": configuration.peerRegion = value
            case "peerState": configuration.peerState = value
            case "peerStream": configuration.peerStream = value
            case "peerWriteTimeoutMilliseconds": configuration.peerWriteTimeoutMilliseconds = Int(value)!
            case "state": configuration.state = value
            default: Issue.record("unknown setting \(key)")
            }
        }
        do {
            try configuration.validate()
            Issue.record("accepted \(settings)")
        } catch {
            #expect("\(error)" == message)
        }
    }
}
