import Foundation
import PackagePlugin

/// Writes `let gitCommit = "…"` for `vigil --version`: the commit the binary is built from, `-dirty` when tracked
/// files differ from it, `unknown` outside a git checkout (a source tarball).
///
/// A prebuild command runs before every build, so the commit is never stale; it rewrites the file only when the
/// text changes, so an unchanged commit recompiles nothing.
@main
struct GitCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let script = """
            mkdir -p "$2"
            commit=$(git -c safe.directory="$1" -C "$1" rev-parse --verify HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -c safe.directory="$1" -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
            line="let gitCommit = \\"$commit\\""
            [ -f "$2/GitCommit.swift" ] && [ "$(cat "$2/GitCommit.swift")" = "$line" ] || printf '%s\\n' "$line" > "$2/GitCommit.swift"
            """
        return [
            .prebuildCommand(
                displayName: "Reading the git commit for vigil --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, directory.path],
                outputFilesDirectory: directory
            )
        ]
    }
}
