import Foundation
import Logging
import ServiceLifecycle
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures

/// Folds the peer region's scored payments into this region's feature state and duplicate store, as they come from
/// its stream (docs/regions.md): so consortium features see both regions, and a peer's answer this region missed is
/// recorded here.
///
/// A batch is committed once every record in it is folded; a store failure leaves it uncommitted and the batch is
/// folded again a second later (folding is idempotent: a record that applied a payment writes nothing for it again).
/// Records of tenants whose data is not kept in this region (``RegionLink/allows(tenant:in:)``), of tenants unknown
/// here, duplicate-answered records and records this version cannot read are left out and counted.
struct PeerFold<Store: FeatureStore, Log: EventLog, Duplicates: DuplicateStore>: Service {
    let engine: ScoringEngine<Store, Log, Duplicates>
    /// This region's own duplicate store.
    let answers: any DuplicateStore
    let source: any PeerEventSource
    let link: RegionLink
    let logger: Logger

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let batch = try await source.next()
                if !batch.isEmpty {
                    try await fold(batch, nowMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
                    try await source.commit()
                }
                if failing {
                    logger.notice("Folding the peer region's events again")
                    failing = false
                }
            } catch {
                // Logged once per outage, not per batch; the batch comes again.
                if !failing {
                    logger.error("Cannot fold the peer region's events; retrying", metadata: ["vigil.error": "\(error)"])
                    failing = true
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    /// How many debtors' payments are folded at once. Each fold is several round trips to the store, so one at a
    /// time cannot keep up with a peer scoring 1,000 payments a second (BENCHMARKS.md, "Two regions").
    static var concurrency: Int { 32 }

    /// Folds one batch of the peer's records: one debtor's payments in their order, different debtors' at once (up
    /// to ``concurrency``), so the features that depend on a debtor's order (first-time payee) come out as in the
    /// peer.
    /// - Throws: a store failure; the records folded before it stay folded, and folding them again writes nothing.
    func fold(_ batch: [[UInt8]], nowMillis: Int64) async throws(StateStoreError) {
        var lanes: [[LoggedEvent]] = []
        var laneOfDebtor: [Token: Int] = [:]
        // Loaded daily-file records and labels keep their order among themselves (a link moves, entitlements
        // replace): one lane.
        var intakeLane: Int?
        for payload in batch {
            let record = try? EventCoding.decodeRecord(payload)
            if let record, record.isReferenceData, link.allows(tenant: record.tenant, in: link.region) {
                if let intakeLane {
                    lanes[intakeLane].append(record)
                } else {
                    intakeLane = lanes.count
                    lanes.append([record])
                }
                continue
            }
            guard case .scored(let event)? = record, link.allows(tenant: event.tenant, in: link.region) else {
                link.didSkipFold()
                continue
            }
            let debtor = event.request.debtor.account
            if let lane = laneOfDebtor[debtor] {
                lanes[lane].append(.scored(event))
            } else {
                laneOfDebtor[debtor] = lanes.count
                lanes.append([.scored(event)])
            }
        }
        let (engine, answers, link) = (self.engine, self.answers, self.link)
        let failure = await withTaskGroup(of: StateStoreError?.self) { group -> StateStoreError? in
            var next = 0
            func start() {
                let lane = lanes[next]
                next += 1
                group.addTask {
                    for record in lane {
                        do throws(StateStoreError) {
                            switch record {
                            case .scored(let event): try await engine.fold(event, answersInto: answers, nowMillis: nowMillis)
                            case .intake(let event): try await engine.apply(event)
                            case .label(let event): try await engine.apply(event)
                            case .duplicateAnswered, .shadow: break
                            }
                        } catch {
                            return error
                        }
                        link.didFold(receivedAtMillis: record.receivedAt.epochMillis)
                    }
                    return nil
                }
            }
            while next < min(Self.concurrency, lanes.count) { start() }
            var failure: StateStoreError?
            for await result in group {
                if failure == nil, let result { failure = result }
                if failure == nil, next < lanes.count { start() }
            }
            return failure
        }
        if let failure { throw failure }
    }
}
