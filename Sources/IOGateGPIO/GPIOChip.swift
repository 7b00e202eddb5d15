import CGPIOD
import Glibc
import IOGateCore

/// An open GPIO chip (`/dev/gpiochipN`): owns libgpiod's `struct gpiod_chip *` and closes it in
/// `deinit`. Line handles never leave this type. Not thread-safe (libgpiod's line objects are
/// updated in place); `LibgpiodLineSource` serializes access.
public final class GPIOChip {
    private let chip: OpaquePointer
    /// The device name, e.g. `gpiochip0`.
    public let name: String
    /// The driver's label.
    public let label: String
    /// Number of lines.
    public let lineCount: Int

    /// Opens `/dev/<name>`. The corresponding C function is `gpiod_chip_open_by_name`.
    public init(name: String) throws(IOGateError) {
        guard let p = gpiod_chip_open_by_name(name) else {
            let e = errno
            let hint =
                e == EACCES || e == EPERM
                ? " (members of group gpio may open it once udev/90-iogate.rules is installed)" : ""
            throw IOGateError(.system, "cannot open GPIO chip /dev/\(name): \(String(cString: strerror(e)))\(hint)")
        }
        chip = p
        self.name = gpiod_chip_name(p).map { String(cString: $0) } ?? name
        label = gpiod_chip_label(p).map { String(cString: $0) } ?? ""
        lineCount = Int(gpiod_chip_num_lines(p))
    }

    deinit { gpiod_chip_close(chip) }

    /// The line at `offset`, as the kernel reports it now. The corresponding C functions are
    /// `gpiod_chip_get_line` and `gpiod_line_update`.
    public func line(_ offset: Int) throws(IOGateError) -> GPIOLineInfo {
        guard (0..<lineCount).contains(offset) else {
            throw IOGateError(.notFound, "GPIO chip \(name) [\(label)] has no line \(offset); lines 0...\(lineCount - 1)")
        }
        // gpiod_chip_get_line returns a handle the chip owns (freed by gpiod_chip_close).
        guard let line = gpiod_chip_get_line(chip, UInt32(offset)), gpiod_line_update(line) == 0 else {
            throw IOGateError(.system, "cannot read line \(offset) of GPIO chip \(name) [\(label)]: \(String(cString: strerror(errno)))")
        }
        return GPIOLineInfo(
            offset: offset,
            name: gpiod_line_name(line).map { String(cString: $0) },
            consumer: gpiod_line_consumer(line).map { String(cString: $0) },
            direction: gpiod_line_direction(line) == Int32(GPIOD_LINE_DIRECTION_OUTPUT) ? .output : .input,
            activeLow: gpiod_line_active_state(line) == Int32(GPIOD_LINE_ACTIVE_STATE_LOW),
            used: gpiod_line_is_used(line))
    }

    /// Every line, in offset order.
    public func lines() throws(IOGateError) -> [GPIOLineInfo] {
        var result: [GPIOLineInfo] = []
        result.reserveCapacity(lineCount)
        for offset in 0..<lineCount { result.append(try line(offset)) }
        return result
    }
}
