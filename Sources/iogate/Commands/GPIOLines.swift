import ArgumentParser
import IOGate
import IOGateGPIO

/// `iogate gpio lines [--json]`: every GPIO chip and line the kernel exposes, read through
/// libgpiod from `/dev/gpiochip*` (members of group gpio may, with udev/90-iogate.rules), like
/// libgpiod's `gpioinfo`. It does not talk to the daemon. `lines` is not a pin, so
/// `iogate gpio 17 set 1` keeps its syntax.
///
/// A machine with no GPIO chips is an answer, not an error: the text form says so and exits 0;
/// `--json` prints `[]`.
enum GPIOLines {
    static let word = "lines"

    static func run(json: Bool, source: GPIOLineInfoSource = LibgpiodLineSource()) throws {
        let chips = try source.chips()
        if json {
            print("[" + chips.map(chipJSON).joined(separator: ",\n ") + "]")
            return
        }
        if chips.isEmpty {
            print(
                "no GPIO chips: this machine exposes no /dev/gpiochip* (no GPIO controller driver, or a kernel without the GPIO character device)"
            )
            return
        }
        for c in chips {
            print("\(c.name) [\(c.label)] \(c.lines.count) lines\(c.device.map { ", device \($0)" } ?? "")")
            for l in c.lines {
                let name = l.name.map { "\"\($0)\"" } ?? "unnamed"
                let consumer = l.consumer.map { "\"\($0)\"" } ?? (l.used ? "kernel" : "unused")
                print(
                    "    line \(String(l.offset).leftPad(3)): \(name.padding(20))\(consumer.padding(20))\(l.direction.rawValue.padding(7))\(l.activeLow ? "active-low" : "active-high")\(l.used ? " [used]" : "")"
                )
            }
        }
    }

    static func chipJSON(_ c: GPIOChipInfo) -> String {
        let lines = c.lines.map { l in
            "{\"offset\": \(l.offset), \"name\": \(jsonString(l.name)), \"consumer\": \(jsonString(l.consumer)), \"direction\": \"\(l.direction.rawValue)\", \"active_low\": \(l.activeLow), \"used\": \(l.used)}"
        }
        return
            "{\"name\": \(jsonString(c.name)), \"label\": \(jsonString(c.label)), \"device\": \(jsonString(c.device)), \"lines\": [\(lines.joined(separator: ", "))]}"
    }

    /// A JSON string literal, or `null`.
    static func jsonString(_ s: String?) -> String { s.map(jsonQuoted) ?? "null" }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
