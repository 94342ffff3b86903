import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilServer
import VigilTraining

struct ModelMonitoringMetricsTests {
    /// The bundled model with a training profile in which half the payments were below 316 GBP and half above.
    func profiledModel() throws -> String {
        let profile = TrainingProfile(
            rows: 2, score: .scores([0, 999]),
            features: [.init(name: "request.amount_log10", distribution: BinnedDistribution(edges: [2.5], proportions: [0.5, 0.5, 0]))]
        )
        let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/VigilEngine/Resources/model.json")
        // The bundled model carries its own profile (`vigil train` writes one): replaced by this one.
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: bundled)) as? [String: Any])
        var learner = try #require(document["learner"] as? [String: Any])
        var attributes = learner["attributes"] as? [String: Any] ?? [:]
        attributes[TrainingProfile.attributeName] = profile.encoded
        learner["attributes"] = attributes
        document["learner"] = learner
        let text = try #require(String(data: try JSONSerialization.data(withJSONObject: document), encoding: .utf8))
        let path = temporaryPath() + "-model.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func metricsShowDriftOfTheServedModelAfterScoring() async throws {
        let model = try profiledModel()
        try await withVigil(dataDirectory: temporaryDataDirectory(), configure: { $0.modelPath = model }) { client, key in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("vigil_model_monitored_payments 0"))
                #expect(!text.contains("vigil_model_feature_psi"))
            }
            let status = try await client.execute(
                uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: json(paymentBody(amount: "250.00"))
            ) { $0.status }
            #expect(status == .ok)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("vigil_model_monitored_payments 1"))
                // All (one) below the edge against half: (1 − 0.5)·ln 2 + (1e-4 − 0.5)·ln(1e-4 / 0.5) ≈ 4.6043.
                #expect(text.contains(#"vigil_model_feature_psi{feature="request.amount_log10"} 4.6043"#))
                #expect(text.contains("vigil_model_score_psi "))
            }
        }
    }
}
