import Foundation
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilGateway
import VigilISO20022
import VigilProtection
import VigilRules
import VigilTraining
import VigilTrees

/// One row of the stage table.
struct StageResult {
    var name: String
    var measurement: Measurement
}

/// Each stage of the per-payment path timed alone, one pass over the workload per batch, in path order.
struct Stages {
    let workload: Workload
    let inputs: EngineInputs
    let model: ModelBundle
    let tenant: TenantPolicy
    let sampler: Sampler
    /// Where the file event log of the append stage is written.
    let directory: String

    var count: Int { workload.payments.count }

    func all() async throws -> [StageResult] {
        var results = [
            StageResult(name: "0a. bearer token, first sight (ES256 signature + claims)", measurement: try await bearerToken(remembered: false)),
            StageResult(name: "0b. bearer token, seen before (SHA-256 + lookup)", measurement: try await bearerToken(remembered: true)),
            StageResult(name: "1. JSON decode + validation", measurement: try await decode()),
            StageResult(name: "1'. pacs.008 XML decode + map, one transaction a message", measurement: try await decodeCreditTransfers(.xml)),
            StageResult(name: "1''. pacs.008 JSON decode + map, one transaction a message", measurement: try await decodeCreditTransfers(.json)),
            StageResult(name: "2. tokenise + seal (Gateway)", measurement: await tokenize()),
            StageResult(name: "3. features (observe, in-memory store)", measurement: try await features()),
            StageResult(
                name: "3'. features with reference data (facts + observe; directory, every debtor linked, reports)",
                measurement: try await featuresWithReference()
            ),
        ]
        let (explained, marginOnly) = try await modelStages()
        results.append(StageResult(name: "4a. model + contributions (explainedMargin)", measurement: explained))
        results.append(StageResult(name: "4b. model alone (margin)", measurement: marginOnly))
        results.append(StageResult(name: "4c. serving monitor (score and feature bins for the drift gauges)", measurement: await monitor()))
        results.append(StageResult(name: "5. rules (RuleSet.evaluate, 2 default rules)", measurement: await rules()))
        results.append(StageResult(name: "6a. event encode, binary record (EventCoding.record)", measurement: await encode(binary: true)))
        results.append(StageResult(name: "6a'. event encode, JSON (EventCoding.encode, JSONWriter)", measurement: await encode(binary: false)))
        results.append(StageResult(name: "6d. event decode, binary record (EventCoding.decodeRecord)", measurement: try await decodeRecords(binary: true)))
        results.append(StageResult(name: "6d'. event decode, JSON record (EventCoding.decodeRecord)", measurement: try await decodeRecords(binary: false)))
        results.append(StageResult(name: "6b. event append, one at a time (FileEventLog, async)", measurement: try await append()))
        results.append(
            StageResult(name: "6c. event append, 64 appenders (FileEventLog, async)", measurement: try await append(concurrency: 64))
        )
        return results
    }

    /// `TokenVerifier.verify` on a `vigil tenant token` token once per payment: with a fresh verifier each time
    /// (every token new, so the signature is checked), or one verifier that has accepted the token before (a
    /// client sending its token with every request).
    func bearerToken(remembered: Bool) async throws -> Measurement {
        let now = Int64(Date().timeIntervalSince1970)
        let key = SigningKey.generate(.es256, created: now)
        let policy = TokenVerifier.Policy(issuer: "vigil", audience: "vigil-api", clockSkewSeconds: 30)
        let claims = TokenClaims(
            issuer: "vigil", audience: ["vigil-api"], subject: "bench", issuedAt: now, expiresAt: now + 900, id: TokenClaims.newID(),
            keyID: key.kid
        )
        let token = try JSONWebToken.issue(claims, key: key)
        let shared = TokenVerifier(keys: [key.verificationKey], policy: policy)
        return await sampler.run(payments: count) { _ in
            var accepted = 0
            let start = ContinuousClock.now
            for _ in 0..<count {
                let verifier = remembered ? shared : TokenVerifier(keys: [key.verificationKey], policy: policy)
                if (try? verifier.verify(token, now: now)) != nil { accepted += 1 }
            }
            let elapsed = ContinuousClock.now - start
            precondition(accepted == count)
            return elapsed
        }
    }

    /// `PaymentRequestDecoder().decode` on each request body: VigilJSON parse, then field validation.
    func decode() async throws -> Measurement {
        let decoder = PaymentRequestDecoder()
        for body in workload.bodies {
            if case .failure(let rejection) = decoder.decode(body) { throw WorkloadError("a simulated body is refused: \(rejection)") }
        }
        return await sampler.run(payments: count) { _ in
            var accepted = 0
            let start = ContinuousClock.now
            for body in workload.bodies {
                if case .success = decoder.decode(body) { accepted += 1 }
            }
            let elapsed = ContinuousClock.now - start
            precondition(accepted == count)
            return elapsed
        }
    }

    /// What `POST /v1/iso20022/pacs.008` does before tokenising, on each payment sent as its own pacs.008 (a payment
    /// hub's real-time message): read the document (the safe XML reader, or VigilJSON for the JSON rendering), its
    /// transactions, and map the one transaction to a validated `PaymentRequest`, as stage 1 does for the JSON body.
    func decodeCreditTransfers(_ format: MessageFormat) async throws -> Measurement {
        let messages = workload.requests.enumerated().map { index, request in
            let document = ISO20022Corpus.creditTransfer([request], messageId: "M-\(index)", createdAt: request.createdAt)
            return format == .xml ? ISO20022XML.render(document) : ISO20022JSON.render(document)
        }
        func mapped(_ message: [UInt8], at: Instant) throws -> Bool {
            let transfer = try CreditTransfer(try ISO20022Document.read(message, format: format, kind: .pacs008))
            let mapping = CreditTransferMapping(perspective: .sending, receivedAt: at)
            guard case .success = mapping.payment(transfer.transactions[0], in: transfer) else { return false }
            return true
        }
        for (message, request) in zip(messages, workload.requests) {
            guard try mapped(message, at: request.createdAt) else { throw WorkloadError("a simulated payment's pacs.008 is refused") }
        }
        return try await sampler.run(payments: count) { _ in
            var accepted = 0
            let start = ContinuousClock.now
            for (message, request) in zip(messages, workload.requests) where try mapped(message, at: request.createdAt) { accepted += 1 }
            let elapsed = ContinuousClock.now - start
            precondition(accepted == count)
            return elapsed
        }
    }

    /// `Gateway.tokenize` (four HMACs and up to four AES-GCM seals) on each validated request.
    func tokenize() async -> Measurement {
        await sampler.run(payments: count) { _ in
            var sealedBytes = 0
            let start = ContinuousClock.now
            for request in workload.requests { sealedBytes += workload.gateway.tokenize(request).debtor.sealedAccount.bytes.count }
            let elapsed = ContinuousClock.now - start
            precondition(sealedBytes > 0)
            return elapsed
        }
    }

    /// `FeatureExtractor.observe` on each payment in time order. One store serves every pass; pass `k` is
    /// the workload shifted `k` periods later, so the state keeps growing like a longer history of the same
    /// customers rather than replaying the same moments twice.
    func features() async throws -> Measurement {
        let extractor = FeatureExtractor(store: InMemoryFeatureStore())
        var vector: [Double] = []
        return try await sampler.run(payments: count) { pass in
            let payments = workload.payments(pass: pass)
            let start = ContinuousClock.now
            for payment in payments { try await extractor.observe(payment, into: &vector) }
            return .now - start
        }
    }

    /// Stage 3 as the engine runs it since issue 13: the reference store's facts for the payment (one in-process
    /// lookup), then `observe` with them. Every debtor is linked to a customer (customers share debtors, and the
    /// `customer.*` record is written too), both parties' institutions are in the directory, and every 50th creditor
    /// has two fraud reports: the costly case.
    func featuresWithReference() async throws -> Measurement {
        let extractor = FeatureExtractor(store: InMemoryFeatureStore())
        let reference = InMemoryReferenceStore()
        let tenant = "bench"
        var seen = Set<Token>()
        for payment in workload.payments(pass: 0) {
            for party in [payment.debtor, payment.creditor] {
                if let code = party.institution {
                    reference.upsert(DirectoryEntry(code: code, institution: "Bench bank", type: .bank, status: .active), tenant: tenant)
                }
            }
            if seen.insert(payment.debtor.account).inserted {
                reference.link(AccountLink(account: payment.debtor.account, customer: Token(a: payment.debtor.account.a % 10_007, b: 1, c: 2, d: 3)), tenant: tenant)
            }
            if payment.creditor.account.b % 50 == 0 {
                for report in 0..<2 as Range<UInt64> {
                    reference.addReport(creditor: payment.creditor.account, report: report, reportedAt: Instant(epochMillis: payment.createdAt.epochMillis - 86_400_000), knownAt: Instant(epochMillis: payment.createdAt.epochMillis - 86_400_000))
                }
            }
        }
        var vector: [Double] = []
        return try await sampler.run(payments: count) { pass in
            let payments = workload.payments(pass: pass)
            let start = ContinuousClock.now
            for payment in payments {
                let facts = reference.facts(ReferenceQuery(tenant: tenant, payment: payment))
                try await extractor.observe(payment, identity: payment.consortiumIdentity, facts: facts, into: &vector)
            }
            return .now - start
        }
    }

    /// `explainedMargin` (prediction and Saabas contributions in one walk) and `margin` alone, on the model's
    /// input rows: each payment's features mapped to the model's inputs by name, as `ModelBundle` does.
    func modelStages() async throws -> (explained: Measurement, margin: Measurement) {
        let ensemble = model.ensemble
        let width = ensemble.featureCount
        let sources = try ensemble.featureNames.isEmpty ? Array(0..<Feature.count) : ensemble.featureNames.map { name in
            guard let feature = Feature(name: name) else { throw WorkloadError("the model uses an unknown feature '\(name)'") }
            return feature.rawValue
        }
        let rows = inputs.features.flatMap { features in sources.map { Float(features[$0]) } }
        var contributions = [Double](repeating: 0, count: width)
        let explained = await sampler.run(payments: count) { _ in
            rows.withUnsafeBufferPointer { rows in
                contributions.withUnsafeMutableBufferPointer { contributions in
                    var sum = 0.0
                    let start = ContinuousClock.now
                    for i in 0..<count {
                        sum += ensemble.explainedMargin(UnsafeBufferPointer(rebasing: rows[i * width..<(i + 1) * width]), into: contributions).margin
                    }
                    let elapsed = ContinuousClock.now - start
                    precondition(sum.isFinite)
                    return elapsed
                }
            }
        }
        let margin = await sampler.run(payments: count) { _ in
            rows.withUnsafeBufferPointer { rows in
                var sum = 0.0
                let start = ContinuousClock.now
                for i in 0..<count { sum += ensemble.margin(UnsafeBufferPointer(rebasing: rows[i * width..<(i + 1) * width])) }
                let elapsed = ContinuousClock.now - start
                precondition(sum.isFinite)
                return elapsed
            }
        }
        return (explained, margin)
    }

    /// `ServingMonitor.scored` for each payment, as the engine calls it once the event is logged: the score and every
    /// model feature binned against a profile of the workload itself (10 bins per feature), alerts remembered for the
    /// tenant. What the drift gauges add to the per-payment path.
    func monitor() async -> Measurement {
        let names = model.ensemble.featureNames.isEmpty ? Feature.allCases.map(\.name) : model.ensemble.featureNames
        let sources = names.map { Feature(name: $0)!.rawValue }
        let profile = TrainingProfile(
            featureNames: names, values: inputs.features.flatMap { row in sources.map { Float(row[$0]) } },
            scores: inputs.responses.map(\.score)
        )
        let monitor = ServingMonitor(profile: profile, modelVersion: model.version)
        let (features, responses, tenant) = (inputs.features, inputs.responses, tenant.name)
        return await sampler.run(payments: count) { _ in
            let start = ContinuousClock.now
            for i in 0..<count { monitor.scored(tenant: tenant, features: features[i], response: responses[i]) }
            let elapsed = ContinuousClock.now - start
            precondition(monitor.snapshot.payments > 0)
            return elapsed
        }
    }

    /// `RuleSet.evaluate` on each payment's rule inputs (`score`, `amount`, the features; currency,
    /// perspective, scheme, channel), laid out beforehand. Building those arrays is the engine's work and is
    /// in the end-to-end figure, not here.
    func rules() async -> Measurement {
        let numericWidth = 2 + Feature.count
        var numeric: [Double] = []
        var text: [String] = []
        for (i, payment) in workload.payments.enumerated() {
            numeric += [Double(inputs.responses[i].score), payment.amount.majorUnits] + inputs.features[i]
            text += [payment.amount.currency.code, payment.perspective.rawValue, payment.scheme, payment.channel ?? ""]
        }
        let rules = tenant.rules
        return await sampler.run(payments: count) { _ in
            numeric.withUnsafeBufferPointer { numeric in
                text.withUnsafeBufferPointer { text in
                    var fired = 0
                    let start = ContinuousClock.now
                    for i in 0..<count {
                        rules.evaluate(
                            numeric: UnsafeBufferPointer(rebasing: numeric[i * numericWidth..<(i + 1) * numericWidth]),
                            text: UnsafeBufferPointer(rebasing: text[i * 4..<(i + 1) * 4])
                        ) { _ in fired += 1 }
                    }
                    let elapsed = ContinuousClock.now - start
                    precondition(fired >= 0)
                    return elapsed
                }
            }
        }
    }

    /// Encoding each payment's event, into a fresh array per event: as the engine appends it (`EventCoding.record`,
    /// binary), or as the JSON form that export prints and older logs hold (`EventCoding.encode`).
    func encode(binary: Bool) async -> Measurement {
        await sampler.run(payments: count) { _ in
            var checksum = 0
            let start = ContinuousClock.now
            for event in inputs.events {
                let payload = binary ? EventCoding.record(event) : EventCoding.encode(event)
                checksum &+= Int(payload[payload.count / 2])
            }
            let elapsed = ContinuousClock.now - start
            precondition(checksum > 0)
            return elapsed
        }
    }

    /// Reading each payment's record back as recovery does (`EventCoding.decodeRecord`): the binary records the engine
    /// appends, or the JSON records of older logs. This decides replay speed.
    func decodeRecords(binary: Bool) async throws -> Measurement {
        let payloads = inputs.events.map { binary ? EventCoding.record($0) : EventCoding.encode($0) }
        return try await sampler.run(payments: count) { _ in
            var checksum = 0
            let start = ContinuousClock.now
            for payload in payloads {
                checksum &+= try EventCoding.decodeRecord(payload).receivedAt.utcOffsetSeconds == 0 ? 1 : 2
            }
            let elapsed = ContinuousClock.now - start
            precondition(checksum > 0)
            return elapsed
        }
    }

    /// Bytes per event of the workload in each form (the log adds an 8-byte header to each).
    func eventSizes() -> (binary: Double, json: Double) {
        let binary = inputs.events.reduce(0) { $0 + EventCoding.record($1).count }
        let json = inputs.events.reduce(0) { $0 + EventCoding.encode($1).count }
        return (Double(binary) / Double(count), Double(json) / Double(count))
    }

    /// `FileEventLog.append` of each encoded event with `durability = async`: each append waits for the writer
    /// thread to `write` its batch, not for `fdatasync` (fsync latency is measured by `vigil bench`).
    ///
    /// With `concurrency` 1 every append pays the writer thread's wake-up alone (a latency); with 64 appenders in
    /// flight, as under load, the writer takes many records per `write` and the figure is the amortised cost.
    func append(concurrency: Int = 1) async throws -> Measurement {
        let payloads = inputs.events.map(EventCoding.record)
        let log = try FileEventLog(directory: directory + "/events-\(concurrency)", durability: .async)
        let measurement = try await sampler.run(payments: count) { _ in
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<concurrency {
                    group.addTask {
                        for index in stride(from: lane, to: payloads.count, by: concurrency) {
                            _ = try await log.append(payloads[index])
                        }
                    }
                }
                try await group.waitForAll()
            }
            return .now - start
        }
        await log.shutdown()
        return measurement
    }
}
