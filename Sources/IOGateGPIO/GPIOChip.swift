import CGPIOD
import Glibc
import IOGateCore

/// An open GPIO chip (`/dev/gpiochipN`): owns the C shim's chip handle (over libgpiod v1 or v2,
/// whichever the package was built against) and closes it in `deinit`. Not thread-safe (one
/// handle, one file descriptor); `LibgpiodLineSource` serializes access.
public final class GPIOChip {
    private let chip: OpaquePointer
    /// The device node this chip was opened from, e.g. `/dev/gpiochip0`.
    public let path: String
    /// The device name, e.g. `gpiochip0`.
    public let name: String
    /// The driver's label.
    public let label: String
    /// Number of lines.
    public let lineCount: Int

    /// The libgpiod API this package was compiled against: 1 or 2.
    public static var libgpiodAPI: Int { Int(iogate_gpiod_api_major()) }

    /// The version of the libgpiod loaded at run time, e.g. `1.6.3` or `2.2.1`.
    public static var libgpiodVersion: String {
        // SAFETY: both libgpiod versions return a static NUL-terminated string, never NULL.
        String(cString: iogate_gpiod_library_version())
    }

    /// Opens `/dev/<name>`.
    public convenience init(name: String) throws(IOGateError) {
        try self.init(path: "/dev/" + name)
    }

    /// Opens the chip device node at `path`. The C function is `iogate_gpiod_chip_open`
    /// (libgpiod's `gpiod_chip_open`, which also checks through sysfs that it is a GPIO chip).
    public init(path: String) throws(IOGateError) {
        guard let p = iogate_gpiod_chip_open(path) else {
            let e = errno
            let hint =
                e == EACCES || e == EPERM
                ? " (members of group gpio may open it once udev/90-iogate.rules is installed)" : ""
            throw IOGateError(.system, "cannot open GPIO chip \(path): \(String(cString: strerror(e)))\(hint)")
        }
        chip = p
        self.path = path
        // SAFETY: `p` is open; the shim returns non-NULL NUL-terminated copies that live until
        // iogate_gpiod_chip_close, and String(cString:) copies them before that.
        let kernelName = String(cString: iogate_gpiod_chip_name(p))
        name = kernelName.isEmpty ? String(path.split(separator: "/").last ?? Substring(path)) : kernelName
        label = String(cString: iogate_gpiod_chip_label(p))
        lineCount = Int(iogate_gpiod_chip_num_lines(p))
    }

    // SAFETY: `chip` came from iogate_gpiod_chip_open, is closed exactly once here, and no pointer
    // derived from it outlives this object (line snapshots are freed in line(_:)).
    deinit { iogate_gpiod_chip_close(chip) }

    /// The line at `offset`, as the kernel reports it now. The C function is
    /// `iogate_gpiod_line_get` (libgpiod v1 `gpiod_line_update`, v2 `gpiod_chip_get_line_info`).
    public func line(_ offset: Int) throws(IOGateError) -> GPIOLineInfo {
        guard (0..<lineCount).contains(offset) else {
            throw IOGateError(.notFound, "GPIO chip \(name) [\(label)] has no line \(offset); lines 0...\(lineCount - 1)")
        }
        guard let line = iogate_gpiod_line_get(chip, UInt32(offset)) else {
            throw IOGateError(.system, "cannot read line \(offset) of GPIO chip \(name) [\(label)]: \(String(cString: strerror(errno)))")
        }
        // SAFETY: `line` is a snapshot this function owns and frees on return; its strings are
        // NULL or NUL-terminated copies owned by it, copied into Swift strings before the free.
        defer { iogate_gpiod_line_free(line) }
        return GPIOLineInfo(
            offset: offset,
            name: iogate_gpiod_line_name(line).map { String(cString: $0) },
            consumer: iogate_gpiod_line_consumer(line).map { String(cString: $0) },
            direction: iogate_gpiod_line_is_output(line) ? .output : .input,
            activeLow: iogate_gpiod_line_is_active_low(line),
            used: iogate_gpiod_line_is_used(line))
    }

    /// Every line, in offset order.
    public func lines() throws(IOGateError) -> [GPIOLineInfo] {
        var result: [GPIOLineInfo] = []
        result.reserveCapacity(lineCount)
        for offset in 0..<lineCount { result.append(try line(offset)) }
        return result
    }
}
