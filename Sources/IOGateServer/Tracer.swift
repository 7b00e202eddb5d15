import Glibc
import IOGateCore
import IOGateSystem

/// Appends one line per register access to a file, so a sequence can be checked afterwards.
///
/// Line format: `R|W <window>+0x<offset> <bits> 0x<value> uid=<uid> pid=<pid>`; the window is the
/// board window name, or the physical base of an unnamed range.
public final class Tracer: @unchecked Sendable {
    let fd: Int32
    let lock = Lock()

    /// Opens `path` for appending (created 0640).
    public init(path: String) throws(IOGateError) {
        do throws(Errno) { fd = try Descriptor.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o640) } catch {
            throw IOGateError(.config, "cannot open trace file \(path): \(error.message)")
        }
    }

    deinit { Descriptor.close(fd) }

    /// Records one access.
    func record(write: Bool, label: String, width: AccessWidth, value: UInt64, client: ClientIdentity) {
        let line =
            "\(write ? "W" : "R") \(label) \(width.bits) \(hex(value, digits: width.hexDigits)) uid=\(client.uid) pid=\(client.pid)\n"
        lock.locked {
            // A failed trace write is not the client's error: the access itself succeeded.
            try? Descriptor.writeAll(fd, Array(line.utf8))
        }
    }
}
