import Foundation
import PackagePlugin

/// Writes `let gitCommit = "…"` for `vigil --version`: the commit the binary is built from, `-dirty` when tracked
/// files differ from it, `unknown` outside a git checkout (a source tarball).
///
/// A build command, not a prebuild command: SwiftPM does not run prebuild commands on every incremental build
/// (swift-package-manager#5476), so the commit went stale. This command runs whenever git's HEAD, its refs or index,
/// or any source file of the package changes, and rewrites the file only when its text changes, so a commit that
/// did not move recompiles nothing.
@main
struct GitCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "GitCommit.swift")
        var inputs = context.package.targets.compactMap { $0 as? SourceModuleTarget }.flatMap { $0.sourceFiles.map(\.url) }
        inputs.append(root.appending(path: "Package.swift"))
        let git = root.appending(path: ".git")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: git.path, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in ["HEAD", "index", "packed-refs"] where FileManager.default.fileExists(atPath: git.appending(path: name).path) {
                inputs.append(git.appending(path: name))
            }
            // The branch HEAD names moves on every commit; HEAD itself changes only when another branch is checked out.
            if let head = try? String(contentsOf: git.appending(path: "HEAD"), encoding: .utf8), head.hasPrefix("ref: ") {
                let ref = git.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines))
                if FileManager.default.fileExists(atPath: ref.path) { inputs.append(ref) }
            }
        }
        let script = """
            commit=$(git -c safe.directory="$1" -C "$1" rev-parse --verify HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -c safe.directory="$1" -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
            line="let gitCommit = \\"$commit\\""
            [ -f "$2" ] && [ "$(cat "$2")" = "$line" ] || printf '%s\\n' "$line" > "$2"
            """
        return [
            .buildCommand(
                displayName: "Reading the git commit for vigil --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", root.path, output.path],
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
