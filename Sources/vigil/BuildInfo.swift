/// What `vigil --version` prints: the release and the git commit the binary was built from.
///
/// A plain `swift build` compiles this file as committed, so its binary says `commit unknown`: the build cannot
/// run git, and the binary must not either (it may run where there is no checkout). `scripts/install` writes the
/// commit in (with `-dirty` when the work tree has changes) for the release build and puts the file back after.
enum BuildInfo {
    static let version = "0.1.0"
    static let commit = "unknown"

    static var description: String { "\(version) (commit \(commit))" }
}
