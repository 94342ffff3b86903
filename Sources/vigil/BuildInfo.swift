/// What `vigil --version` prints: the release and the git commit the binary was built from.
///
/// `gitCommit` comes from `Plugins/GitCommitPlugin`, which reads it with git before every build (`-dirty` when
/// tracked files differ from the commit, `unknown` when the sources are not a git checkout). The binary itself never
/// runs git: it may run where there is no checkout.
enum BuildInfo {
    static let version = "0.1.0"
    static let commit = gitCommit

    static var description: String { "\(version) (commit \(commit))" }
}
