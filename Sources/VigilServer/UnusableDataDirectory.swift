import Foundation
public import VigilProtection

/// A data directory an administrative command cannot use: it does not exist, or `vigil serve` has never set it up
/// (it has no `tenants.json`). Only `vigil serve` creates a data directory, so a mistyped `--data-dir` fails here
/// instead of growing a second directory with its own master key and tenants that the running server never sees.
public struct UnusableDataDirectory: Error, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Nothing at the path.
        case missing
        /// The path is not a directory.
        case notADirectory
        /// A directory without `tenants.json`: never started by `vigil serve`.
        case uninitialised
        /// A control plane without the tenants document: no `vigil serve --control-plane` has started on it.
        case uninitialisedControlPlane
        /// The control plane could not be read (PostgreSQL down, slow or refusing the credentials), or its keys do
        /// not open with this master key.
        case unreachableControlPlane(String)
        /// A shared control plane, and no master key here to open its keys with.
        case noMasterKey
    }

    public var path: String
    public var reason: Reason

    public var description: String {
        let start = "start `vigil serve --data-dir \(path)` once to"
        switch reason {
        case .missing: return "data directory \(path) does not exist; \(start) create it, or give the server's --data-dir"
        case .notADirectory: return "data directory \(path) is not a directory"
        case .uninitialised:
            return "\(path) is not a Vigil data directory (it has no tenants.json); \(start) set it up, or give the server's --data-dir"
        case .uninitialisedControlPlane:
            return "the control plane \(path) holds no tenants; start `vigil serve --control-plane` on it once to set it up, or give the server's --control-plane"
        case .unreachableControlPlane(let why):
            return "the control plane \(path) cannot be used: \(why)"
        case .noMasterKey:
            return "\(path)/master.key does not exist: with --control-plane, give --data-dir of a node that uses this control plane (for its master.key), or set VIGIL_MASTER_KEY"
        }
    }

    /// Throws unless `plane` holds the tenants document that `vigil serve` writes on its first start. Reads only.
    public static func check(plane: any ControlPlane) throws(UnusableDataDirectory) {
        let exists: Bool
        do {
            exists = try TenantDirectory(plane: plane).exists()
        } catch {
            throw UnusableDataDirectory(path: plane.location, reason: .unreachableControlPlane("\(error)"))
        }
        guard exists else { throw UnusableDataDirectory(path: plane.location, reason: .uninitialisedControlPlane) }
    }

    /// Throws unless `path` is a directory that `vigil serve` has set up. Reads only; creates nothing.
    public static func check(_ path: String) throws(UnusableDataDirectory) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw UnusableDataDirectory(path: path, reason: .missing)
        }
        guard isDirectory.boolValue else { throw UnusableDataDirectory(path: path, reason: .notADirectory) }
        guard FileManager.default.fileExists(atPath: TenantDirectory(dataDirectory: path).path) else {
            throw UnusableDataDirectory(path: path, reason: .uninitialised)
        }
    }
}
