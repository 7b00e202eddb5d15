import Glibc
import IOGateCore
import IOGateSystem

/// Appends one line per register access to a file, so a sequence can be checked afterwards.
///
/// The format is `TraceFormat` (docs/TRACE.md): a header line `# iogate-trace 1 board=ID`, then
/// `R|W <window>+0x<offset> <bits> 0x<value> uid=<uid> pid=<pid>` per access; the window is the
/// board window name, or the physical base of an unnamed range.
public final class Tracer: Sendable {
    let fd: Int32
    let lock = Lock()

    /// Opens `path` for appending (created 0640), as safely as the root daemon must: the
    /// directory must not be writable by group or others (as sshd's StrictModes demands), the
    /// file must not be a symlink (`O_NOFOLLOW`: another user could point it at any root-owned
    /// file) and must be a regular file (a FIFO would block or feed another process).
    public init(path: String, board: String? = nil) throws(IOGateError) {
        let dir = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var st = stat()
        guard stat(dir, &st) == 0 else {
            throw IOGateError(.config, "trace file \(path): cannot inspect its directory \(dir): \(Errno.text(errno))")
        }
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()) {
            throw IOGateError(
                .config,
                "trace file \(path): its directory \(dir) is writable by group or others, or owned by another user (mode "
                    + "\(String(st.st_mode & 0o7777, radix: 8)), uid \(st.st_uid)); another user could replace the file. "
                    + "Put the trace in a directory owned by root and writable only by it, e.g. /var/log/iogate")
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o640)
        guard fd >= 0 else {
            let why = errno == ELOOP ? "it is a symbolic link, which the daemon never follows" : Errno.text(errno)
            throw IOGateError(.config, "cannot open trace file \(path): \(why)")
        }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw IOGateError(.config, "trace file \(path) is not a regular file; refusing to write a trace into it")
        }
        // A new (empty) file starts with the format's header line (docs/TRACE.md); a file that
        // already holds a trace is appended to as it is.
        if st.st_size == 0 { try? Descriptor.writeAll(fd, Array((TraceFormat.header(board: board) + "\n").utf8)) }
    }

    deinit { close(fd) }

    /// Appends `text` (whole lines); `AccessLog` makes the lines.
    func write(_ text: String) {
        lock.locked {
            // A failed trace write is not the client's error: the access itself succeeded.
            try? Descriptor.writeAll(fd, Array(text.utf8))
        }
    }
}
