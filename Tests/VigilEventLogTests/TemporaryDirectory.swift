import Foundation

/// Runs `body` with the path of a directory that does not exist yet, inside a fresh temporary
/// directory that is removed afterwards.
func withTemporaryDirectory(_ body: (_ path: String) async throws -> Void) async throws {
    let parent = FileManager.default.temporaryDirectory
        .appendingPathComponent("vigil-eventlog-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: parent) }
    try await body(parent + "/log")
}
