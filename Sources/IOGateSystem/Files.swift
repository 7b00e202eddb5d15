import Glibc

/// Paths, directories and the environment, without Foundation.
public enum FileSystem {
    /// True when `path` exists (following symbolic links).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// The names in directory `dir` (not `.` or `..`), sorted; empty when it cannot be read.
    public static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            // SAFETY: readdir's entry stays valid until the next readdir/closedir on `d`; d_name is
            // a fixed array holding a NUL-terminated name, read here before either call.
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The value of environment variable `name`, if set.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The absolute path of the running executable (`/proc/self/exe`), or nil without `/proc`.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The path of another executable installed beside this one (iogate and iogated ship together).
    public static func siblingExecutable(_ name: String) -> String {
        let me = executablePath() ?? CommandLine.arguments[0]
        return directory(of: me) + "/" + name
    }

    /// The directory part of `path` (`/a/b` for `/a/b/c`, `/` for `/a`, `.` for `a`).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The canonical absolute form of an existing `path` (symbolic links and `..` resolved).
    public static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The current working directory.
    public static func currentDirectory() -> String? { canonical(".") }

    /// Creates `path` with `mode` (before the umask); an existing directory is not an error.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(Errno) {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw Errno.current("mkdir \(path)") }
    }

    /// Removes `path` and, for a directory, everything under it. Symbolic links are removed, never
    /// followed, so a link inside the tree cannot make this delete files outside it.
    public static func removeTree(_ path: String) throws(Errno) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw Errno.current("lstat \(path)")
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in list(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw Errno.current("rmdir \(path)") }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw Errno.current("unlink \(path)") }
        }
    }
}

/// A new private (0700) directory `/tmp/<prefix>-XXXXXX`; the caller removes it (`FileSystem.removeTree`).
public func makeTemporaryDirectory(_ prefix: String) throws(Errno) -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { p in
        // SAFETY: the buffer is the template's own NUL-terminated storage, which mkdtemp rewrites in place.
        mkdtemp(p.baseAddress!) != nil
    }
    guard made else { throw Errno.current("mkdtemp /tmp/\(prefix)-XXXXXX") }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
