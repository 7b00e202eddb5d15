import Glibc
import IOGateCore

/// Finds and reads board files: shared by the daemon and the CLI (`iogate boards`, `iogate demo`),
/// which is why it lives here and not in the server.
public enum BoardDirectory {
    /// Directories searched for `boards/*.toml`, in order: `$IOGATE_BOARDS`, the install locations,
    /// then `boards/` in any parent of the running executable (so `swift run` works from a checkout).
    public static func candidates() -> [String] {
        var dirs: [String] = []
        if let env = FileSystem.environment("IOGATE_BOARDS") { dirs.append(env) }
        dirs += ["/etc/iogate/boards", "/usr/local/share/iogate/boards", "/usr/share/iogate/boards"]
        if var dir = FileSystem.executablePath() {
            while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
                dir = String(dir[..<slash])
                dirs.append(dir + "/share/iogate/boards")
                dirs.append(dir + "/boards")
            }
        }
        return dirs
    }

    /// The first candidate directory holding at least one `.toml` file.
    public static func locate(_ explicit: String? = nil) throws(IOGateError) -> String {
        if let explicit { return explicit }
        for d in candidates() where !tomlFiles(in: d).isEmpty { return d }
        throw IOGateError(
            .board, "no board directory found; searched: \(candidates().prefix(6).joined(separator: ", ")); set IOGATE_BOARDS")
    }

    /// The `.toml` files in `dir`, as full paths, sorted.
    static func tomlFiles(in dir: String) -> [String] {
        FileSystem.list(dir).filter { $0.hasSuffix(".toml") }.map { dir + "/" + $0 }
    }

    /// Loads every board in `dir` (or the located directory).
    public static func catalog(_ dir: String? = nil) throws(IOGateError) -> BoardCatalog {
        let d = try locate(dir)
        var files: [(file: String, text: String)] = []
        for f in tomlFiles(in: d) {
            guard let t = readTextFile(f) else { throw IOGateError(.board, "cannot read board file \(f)") }
            files.append((f, t))
        }
        return try BoardCatalog(files: files)
    }

    /// The compatible strings of the running machine's device tree, or nil where there is none.
    public static func machineCompatible() -> [String]? {
        readSmallFile("/proc/device-tree/compatible").map(BoardCatalog.compatibleStrings)
    }
}
