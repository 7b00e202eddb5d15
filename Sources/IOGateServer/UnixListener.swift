import Glibc
import IOGateCore
import IOGateSystem

/// A listening Unix stream socket, bound with the robustness details of swift-nio:
/// a stale path is replaced only if it is a socket, a too-long path has its own error,
/// and mode and group are set before `listen`, so no client can connect before they apply.
public struct UnixListener {
    public let fd: Int32
    public let path: String
    /// True when the socket came from systemd (`LISTEN_FDS`), so we must not unlink it.
    public let activated: Bool

    /// The most bytes a `sun_path` holds, NUL included.
    public static let maxPathBytes = UnixSocketAddress.capacity

    /// Binds and listens on `path` with `mode` and, if given, `group`.
    public static func bind(path: String, mode: UInt32, group: UInt32?) throws(IOGateError) -> UnixListener {
        let address: UnixSocketAddress
        do throws(UnixSocketAddress.PathTooLong) { address = try UnixSocketAddress(path) } catch {
            throw IOGateError(.config, error.description)
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw IOGateError(.config, "socket path \(path) exists and is not a socket; refusing to replace it")
            }
            unlink(path)
        }
        let fd = try syscall("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        // Create the socket file with no access at all; permissions are opened below, before listen.
        let old = umask(0o777)
        let bound = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        let bindErrno = errno
        umask(old)
        guard bound == 0 else {
            close(fd)
            throw IOGateError(.system, "cannot bind socket \(path): \(Errno.text(bindErrno))")
        }
        do {
            if let group { try syscall("chown \(path) to gid \(group)") { chown(path, uid_t.max, group) } }
            try syscall("chmod \(path) \(String(mode, radix: 8))") { chmod(path, mode_t(mode)) }
            try syscall("listen on \(path)") { listen(fd, 512) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        return UnixListener(fd: fd, path: path, activated: false)
    }

    /// The socket systemd passed (`LISTEN_PID` is us and `LISTEN_FDS` >= 1: fd 3), if any.
    /// Checks it before use: fd 3 must be a listening `AF_UNIX` stream socket, or the start fails.
    public static func fromSystemd(expectedPath: String) throws(IOGateError) -> UnixListener? {
        guard let pidText = getenv("LISTEN_PID"), let fdsText = getenv("LISTEN_FDS"),
            Int32(String(cString: pidText)) == getpid(), let n = Int(String(cString: fdsText)), n >= 1
        else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        let fd: Int32 = 3
        func option(_ name: Int32) -> Int32? {
            var v: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : nil
        }
        let domain = option(SO_DOMAIN), type = option(SO_TYPE), listening = option(SO_ACCEPTCONN)
        guard domain == AF_UNIX, type == Int32(SOCK_STREAM.rawValue), listening == 1 else {
            let what =
                domain == nil
                ? "not a socket (\(Errno.text(errno)))"
                : "a socket of domain \(domain!), type \(type ?? -1), \(listening == 1 ? "listening" : "not listening")"
            throw IOGateError(
                .config,
                "systemd passed file descriptor 3 (LISTEN_FDS=\(n)) but it is \(what); iogated needs a listening AF_UNIX "
                    + "stream socket (ListenStream= in iogated.socket)")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return UnixListener(fd: fd, path: expectedPath, activated: true)
    }

    /// Accepts one client (close-on-exec); nil once the listener is shut down.
    public func accept() -> Int32? { Descriptor.accept(fd) }

    /// Stops accepting and removes the socket file (unless systemd owns it). Returns why the
    /// file could not be removed, if it could not.
    @discardableResult
    public func shutdownAndUnlink() -> String? {
        // Unlink first: shutting the listener down wakes the accept loop, and the process may exit
        // as soon as it returns.
        var problem: String?
        if !activated && unlink(path) != 0 && errno != ENOENT {
            problem = "cannot remove socket \(path): \(Errno.text(errno)); the next start replaces it"
        }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        return problem
    }

    /// Creates the socket's directory (mode 0755, owned by `owner`) when it does not exist, so a
    /// daemon that drops privileges can still remove its socket at exit, as systemd's
    /// `RuntimeDirectory=` arranges. An existing directory is left as it is.
    public static func prepareDirectory(for path: String, owner: (uid: UInt32, gid: UInt32)?) throws(IOGateError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let dir = String(path[..<slash])
        var st = stat()
        if stat(dir, &st) == 0 { return }
        guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
            throw IOGateError(.config, "cannot create socket directory \(dir): \(Errno.text(errno))")
        }
        if let owner { try syscall("chown \(dir)") { chown(dir, owner.uid, owner.gid) } }
    }
}

/// The kernel's credentials of a connected peer, as they were when it connected: uid, gid and pid
/// from `SO_PEERCRED`, supplementary groups from `SO_PEERGROUPS` (Linux 4.13). Never `/proc/<pid>`:
/// the pid may belong to another process by the time it is read, and `hidepid=` hides it. Throws
/// when the kernel cannot say; the caller then closes the connection (PROTOCOL.md section 4, item 7).
public func peerIdentity(_ fd: Int32) throws(IOGateError) -> ClientIdentity {
    // struct ucred from <sys/socket.h> (glibc hides it without _GNU_SOURCE): pid, uid, gid.
    struct PeerCred { var pid: Int32 = 0; var uid: UInt32 = 0; var gid: UInt32 = 0 }
    var cred = PeerCred()
    var len = socklen_t(MemoryLayout<PeerCred>.size)
    try syscall("getsockopt(SO_PEERCRED)") { getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) }
    return ClientIdentity(uid: cred.uid, gid: cred.gid, pid: cred.pid, groups: try peerGroups(fd))
}

/// The supplementary groups the peer had when it connected (`SO_PEERGROUPS`).
func peerGroups(_ fd: Int32) throws(IOGateError) -> [UInt32] {
    var groups = [UInt32](repeating: 0, count: 32)
    while true {
        var len = socklen_t(groups.count * MemoryLayout<UInt32>.size)
        // SAFETY: the kernel writes at most `len` bytes into the array's storage.
        let rc = groups.withUnsafeMutableBytes { getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, $0.baseAddress, &len) }
        if rc == 0 { return Array(groups.prefix(Int(len) / MemoryLayout<UInt32>.size)) }
        // ERANGE: the kernel says in `len` how many bytes the list needs (up to NGROUPS_MAX, 65536 groups).
        guard errno == ERANGE, Int(len) > groups.count * MemoryLayout<UInt32>.size else {
            throw IOGateError(
                .system,
                "getsockopt(SO_PEERGROUPS) failed: \(Errno.text(errno)); the kernel must report a client's groups (Linux 4.13 or later)")
        }
        groups = [UInt32](repeating: 0, count: Int(len) / MemoryLayout<UInt32>.size)
    }
}
