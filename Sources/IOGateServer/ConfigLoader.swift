import Glibc
import IOGateCore
import IOGateSystem

/// Reads the configuration file, refusing one that an unprivileged user could have altered.
public enum ConfigLoader {
    /// Loads and parses `path`. The file must be owned by root (or by the account the daemon runs
    /// as) and not writable by group or others, as CE's IoBase/IoLen keys were writable only by
    /// privileged code.
    public static func load(_ path: String) throws(IOGateError) -> Config {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IOGateError(.config, "cannot open configuration \(path): \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw IOGateError(.config, "cannot stat configuration \(path): \(errnoText())") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw IOGateError(.config, "configuration \(path) is not a regular file") }
        let me = geteuid()
        guard st.st_uid == 0 || st.st_uid == me else {
            throw IOGateError(
                .config,
                "configuration \(path) is owned by uid \(st.st_uid); it must be owned by root\(me == 0 ? "" : " or by uid \(me), the daemon's own account") (chown root \(path))"
            )
        }
        let mode = st.st_mode & 0o777
        guard mode & 0o022 == 0 else {
            throw IOGateError(
                .config,
                "configuration \(path) is writable by \(mode & 0o020 != 0 ? "group" : "others") (mode \(String(mode, radix: 8))); only its owner may write it (chmod go-w \(path))"
            )
        }
        guard let bytes = readSmallFile(path, limit: 1 << 20) else { throw IOGateError(.config, "cannot read configuration \(path)") }
        return try Config.parse(text: String(decoding: bytes, as: UTF8.self), file: path)
    }
}

/// Finds and reads board files.
public enum BoardDirectory {
    /// Directories searched for `boards/*.toml`, in order: `$IOGATE_BOARDS`, the install locations,
    /// then `boards/` in any parent of the running executable (so `swift run` works from a checkout).
    public static func candidates() -> [String] {
        var dirs: [String] = []
        if let env = getenv("IOGATE_BOARDS") { dirs.append(String(cString: env)) }
        dirs += ["/etc/iogate/boards", "/usr/local/share/iogate/boards", "/usr/share/iogate/boards"]
        var exe = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &exe, exe.count - 1)
        if n > 0 {
            var dir = String(decoding: exe[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

    static func tomlFiles(in dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".toml") { names.append(dir + "/" + name) }
        }
        return names.sorted()
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
