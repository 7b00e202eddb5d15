import Glibc
import IOGateCore
import IOGateSystem

/// Reads the configuration file, refusing one that an unprivileged user could have altered.
public enum ConfigLoader {
    /// Loads and parses `path`. The file must be owned by root (or by the account the daemon runs
    /// as) and not writable by group or others, as CE's IoBase/IoLen keys were writable only by
    /// privileged code.
    public static func load(_ path: String) throws(IOGateError) -> Config {
        let fd: Int32
        do throws(Errno) { fd = try Descriptor.open(path, O_RDONLY) } catch {
            throw IOGateError(.config, "cannot open configuration \(path): \(error.message)")
        }
        defer { Descriptor.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw IOGateError(.config, "cannot stat configuration \(path): \(Errno.text(errno))") }
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
        // Read through the descriptor whose owner and mode were checked above, not the path again,
        // so a file swapped in between cannot be parsed unchecked.
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Descriptor.readAll(fd, limit: 1 << 20) } catch {
            throw IOGateError(.config, "cannot read configuration \(path): \(error.message)")
        }
        return try Config.parse(text: String(decoding: bytes, as: UTF8.self), file: path)
    }
}
