import Foundation
import VigilEngine
import VigilTrees

/// Builds the workload, runs every stage and the end-to-end figures, and prints them.
///
/// Its methods are nonisolated, so the measured loops run on the cooperative pool and never hop to the
/// main actor between payments.
struct MicroBenchmark {
    let options: Options

    #if DEBUG
    static let build = "DEBUG build: figures are meaningless, rebuild with `swift build -c release --product vigil-microbench`"
    #else
    static let build = "release build"
    #endif

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("$ " + CommandLine.arguments.joined(separator: " "))
        #if DEBUG
        print("!!!!!!!! WARNING: \(Self.build) !!!!!!!!")
        #endif
        print("\(Self.build); \(cores) cores; \(ProcessInfo.processInfo.operatingSystemVersionString)")

        // First, while the heap is still small, so the readings see the store and little else.
        if let memory = try await FeatureMemory(debtors: options.debtors).run() {
            print("")
            print(Report.featureMemory(memory))
        } else {
            print("feature state memory: /proc/self/status has no RssAnon here; not reported")
        }
        print("")
        if let memory = DuplicateMemory(payments: 1_000_000).run() {
            print(Report.duplicateMemory(memory))
        } else {
            print("duplicate index memory: /proc/self/status has no RssAnon here; not reported")
        }
        print("")
        if let memory = ReferenceMemory(entries: options.debtors).run() {
            print(
                "reference store memory (InMemoryReferenceStore, RssAnon growth ÷ entries, \(memory.entries) of each; ReferenceMemory.swift): "
                    + "account link \(Int(memory.bytesPerLink.rounded())) B, reported account with 2 reports "
                    + "\(Int(memory.bytesPerReportedAccount.rounded())) B, directory row \(Int(memory.bytesPerDirectoryRow.rounded())) B"
            )
        } else {
            print("reference store memory: /proc/self/status has no RssAnon here; not reported")
        }
        print("")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-microbench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let model = try options.modelPath.map { try ModelBundle.load(path: $0) } ?? ModelBundle.bundled()
        let tenant = try BenchmarkTenant.policy()
        let workload = try Workload.make(payments: options.payments, in: directory)
        let inputs = try await EngineInputs(workload: workload, model: model, tenant: tenant)
        let sampler = Sampler(seconds: options.seconds)
        print(
            "model \(model.version) (\(options.modelPath ?? "bundled")): \(model.ensemble.treeCount) trees, \(model.ensemble.nodeCount) nodes, "
                + "\(model.ensemble.featureCount) inputs"
        )
        print(
            "workload: \(Report.count(Double(workload.payments.count))) simulated payments (seed 1, \(workload.days) days), "
                + "one pass per batch, \(options.seconds) s of measured time per stage (at least 3 batches); repeated passes are "
                + "shifted \(workload.days) days later each, with new payment ids, so state grows as a longer history of the same customers"
        )
        print("")

        let stages = Stages(workload: workload, inputs: inputs, model: model, tenant: tenant, sampler: sampler, directory: directory)
        print(Report.stageTable(try await stages.all()))
        let sizes = stages.eventSizes()
        print(
            "event size: \(Report.count(sizes.binary)) bytes per binary record (EventCoding.record, what the log holds), "
                + "\(Report.count(sizes.json)) bytes as JSON (EventCoding.encode, what export prints and older logs hold); "
                + "the log adds an 8-byte header to each"
        )
        print("")

        let endToEnd = EndToEnd(workload: workload, model: model, tenant: tenant, sampler: sampler)
        let sequential = try await endToEnd.run(tasks: 1)
        let parallel = try await endToEnd.run(tasks: cores)
        var rows = [("1 task (one core)", sequential), ("\(cores) tasks (all cores, shared engine)", parallel)]
        if let shadowPath = options.shadowPath {
            let challenger = try ModelBundle.load(path: shadowPath)
            for (name, tasks) in [("1 task, challenger \(challenger.version) in the shadow", 1), ("\(cores) tasks, challenger in the shadow", cores)] {
                rows.append((name, try await endToEnd.run(tasks: tasks, challenger: challenger)))
            }
        }
        print(Report.endToEndTable(rows))
        for (name, result) in rows {
            if let shadows = result.shadows {
                print("\(name): \(Report.count(Double(shadows.logged))) shadow records logged, \(Report.count(Double(shadows.dropped))) dropped (queue full)")
            }
        }
        print("")
        if let retained = sequential.retainedBytesPerScore {
            print(
                "memory retained per score (1 task; RssAnon from /proc/self/status, after − before, ÷ scores; page-granular, "
                    + "and freed memory reused in between hides growth): \(Report.count(retained)) bytes. For scale, the InMemoryEventLog "
                    + "keeps every event, \(Report.count(sequential.eventBytes)) bytes each. Allocation calls and transient bytes are "
                    + "not counted (no malloc interposer)."
            )
        } else {
            print("memory: /proc/self/status has no RssAnon here; memory per score is not reported")
        }
    }
}
