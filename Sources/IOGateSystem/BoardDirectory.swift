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

    /// `explicit`, else the first candidate directory holding at least one `.toml` file, else nil
    /// (the built-in boards are then all there is).
    public static func locate(_ explicit: String? = nil) -> String? {
        if let explicit { return explicit }
        return candidates().first { !tomlFiles(in: $0).isEmpty }
    }

    /// The `.toml` files in `dir`, as full paths, sorted.
    static func tomlFiles(in dir: String) -> [String] {
        FileSystem.list(dir).filter { $0.hasSuffix(".toml") }.map { dir + "/" + $0 }
    }

    /// The built-in boards, with the boards of `dir` (or of the located directory, if any) added
    /// or overriding them by id. A `dir` given explicitly must exist and hold board files.
    public static func catalog(_ dir: String? = nil) throws(IOGateError) -> BoardCatalog {
        let builtin = try BoardCatalog.builtin()
        guard let d = locate(dir) else { return builtin }
        if dir != nil && tomlFiles(in: d).isEmpty {
            throw IOGateError(.board, "board directory \(d) holds no .toml board files (the built-in boards need none)")
        }
        var files: [(file: String, text: String)] = []
        for f in tomlFiles(in: d) {
            guard let t = readTextFile(f) else { throw IOGateError(.board, "cannot read board file \(f)") }
            files.append((f, t))
        }
        return builtin.overridden(by: try BoardCatalog(files: files))
    }

    /// The compatible strings of the running machine's device tree, or nil where there is none.
    public static func machineCompatible() -> [String]? {
        readSmallFile("/proc/device-tree/compatible").map(BoardCatalog.compatibleStrings)
    }
}
