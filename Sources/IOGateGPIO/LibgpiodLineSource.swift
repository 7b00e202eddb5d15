import Glibc
import IOGateCore
import IOGateSystem
import Synchronization

/// GPIO information from the kernel through libgpiod (v1 or v2, fixed at build time; see
/// `GPIOChip.libgpiodAPI`). Chips opened once stay open, so the daemon can keep checking lines
/// after it has dropped the privileges needed to open them.
public final class LibgpiodLineSource: GPIOLineInfoSource, Sendable {
    /// The directory holding `gpiochip*` device nodes.
    public let devDirectory: String
    private let open = Mutex<[String: GPIOChip]>([:])

    /// Creates a source over `/dev` (or another directory of chip nodes).
    public init(devDirectory: String = "/dev") {
        self.devDirectory = devDirectory
    }

    /// The `gpiochip*` character devices in `devDirectory`, in numeric order. libgpiod v1's own
    /// `gpiod_chip_iter_new` fails as a whole if any one chip cannot be opened (and v2 has no chip
    /// iterator), so the chips are found here and opened one by one, each failure naming its chip.
    public func chipNames() -> [String] {
        var names: [String] = []
        for name in FileSystem.list(devDirectory) {
            guard name.hasPrefix("gpiochip"), Int(name.dropFirst("gpiochip".count)) != nil else { continue }
            var st = stat()
            guard stat(devDirectory + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFCHR else { continue }
            names.append(name)
        }
        return names.sorted { Int($0.dropFirst(8))! < Int($1.dropFirst(8))! }
    }

    public func chips() throws(IOGateError) -> [GPIOChipInfo] {
        var result: [GPIOChipInfo] = []
        for name in chipNames() {
            let info = try typedThrows {
                try open.withLock { chips in
                    let chip = try chips[name] ?? GPIOChip(path: devDirectory + "/" + name)
                    chips[name] = chip
                    return GPIOChipInfo(name: chip.name, label: chip.label, device: Self.sysfsDevice(chip: name), lines: try chip.lines())
                }
            }
            result.append(info)
        }
        return result
    }

    public func lines(chip name: String, offsets: [Int]) throws(IOGateError) -> [GPIOLineInfo] {
        try typedThrows {
            try open.withLock { chips in
                let chip = try chips[name] ?? GPIOChip(path: devDirectory + "/" + name)
                chips[name] = chip
                var result: [GPIOLineInfo] = []
                for o in offsets { result.append(try chip.line(o)) }
                return result
            }
        }
    }

    /// The parent device of a chip in sysfs (`/sys/bus/gpio/devices/gpiochip0` resolves to
    /// `.../fe200000.gpio/gpiochip0`, so this is `fe200000.gpio`), or nil.
    public static func sysfsDevice(chip: String, sysfs: String = "/sys/bus/gpio/devices") -> String? {
        // SAFETY: realpath(_, nil) returns a malloc'd NUL-terminated string, copied and freed here.
        guard let resolved = realpath(sysfs + "/" + chip, nil) else { return nil }
        defer { free(resolved) }
        let parts = String(cString: resolved).split(separator: "/")
        guard parts.count >= 2, parts.last.map(String.init) == chip else { return nil }
        return String(parts[parts.count - 2])
    }
}
