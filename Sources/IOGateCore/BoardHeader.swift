/// A board's pin header as its board file describes it (`[header]`): what each physical pin is,
/// in physical order (pin 1 first).
///
/// Each entry of `pins` is either a GPIO line, `GPIO<n>` with `n` numbered as the CLI and Linux
/// number them (counted across the board's GPIO windows in file order), or one of the fixed
/// names of `BoardHeader.fixedNames` (supply, ground, not connected).
public struct BoardHeader: Hashable, Sendable {
    /// What one physical pin carries.
    public enum Pin: Hashable, Sendable, CustomStringConvertible {
        /// A GPIO line, by its board-wide number.
        case gpio(Int)
        /// A supply, ground or unconnected pin: one of `BoardHeader.fixedNames`.
        case fixed(String)

        /// `GPIO17`, `3V3`, `GND`.
        public var description: String {
            switch self {
            case .gpio(let n): "GPIO\(n)"
            case .fixed(let name): name
            }
        }
    }

    /// The header's name on the board (`J8`).
    public var name: String
    /// Where the pin map comes from.
    public var source: String
    public var notes: String?
    /// Physical pin `i + 1` is `pins[i]`.
    public var pins: [Pin]

    public init(name: String, source: String, notes: String? = nil, pins: [Pin]) {
        self.name = name
        self.source = source
        self.notes = notes
        self.pins = pins
    }

    /// The names a non-GPIO pin may have.
    public static let fixedNames = ["3V3", "5V", "1V8", "GND", "NC"]

    static let keys = ["name", "source", "notes", "pins"]

    /// Parses `[header]`; `gpioCount` is the number of GPIO lines the board's modelled GPIO windows
    /// have (GPIO numbers must be below it).
    static func parse(_ section: TOMLSection, gpioCount: Int) throws(IOGateError) -> BoardHeader {
        try section.checkKeys(keys)
        let name = try section.requiredString("name")
        let source = try section.requiredString("source")
        guard !source.trimmingCharacters(in: " ").isEmpty else {
            throw section.error("'source' is empty; name the document the pin map comes from", key: "source")
        }
        guard let items = try section.array("pins") else {
            throw section.error("missing required key 'pins' (an array naming each physical pin, pin 1 first)")
        }
        guard !items.isEmpty else { throw section.error("'pins' is empty; list every physical pin, pin 1 first", key: "pins") }
        var pins: [Pin] = []
        var seen: [Int: Int] = [:]
        for (i, item) in items.enumerated() {
            let physical = i + 1
            guard let text = item.value.string else {
                throw section.error(
                    "physical pin \(physical) in 'pins' is \(item.value.typeDescription); expected a string such as \"GPIO17\" or \"GND\"",
                    line: item.position.line)
            }
            let pin = try parsePin(text, physical: physical, gpioCount: gpioCount) { message throws(IOGateError) in
                throw section.error(message, line: item.position.line)
            }
            if case .gpio(let n) = pin {
                if let other = seen[n] {
                    throw section.error(
                        "physical pin \(physical) is GPIO\(n), which physical pin \(other) already is", line: item.position.line)
                }
                seen[n] = physical
            }
            pins.append(pin)
        }
        return BoardHeader(name: name, source: source, notes: try section.string("notes"), pins: pins)
    }

    /// One entry of `pins`; `fail` throws with the message.
    static func parsePin(_ text: String, physical: Int, gpioCount: Int, fail: (String) throws(IOGateError) -> Never) throws(IOGateError)
        -> Pin
    {
        if fixedNames.contains(text) { return .fixed(text) }
        if text.hasPrefix("GPIO") {
            let digits = text.dropFirst(4)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits) else {
                try fail("physical pin \(physical) is \"\(text)\"; expected GPIO followed by a decimal number, e.g. \"GPIO17\"")
            }
            guard n < gpioCount else {
                let have =
                    gpioCount == 0
                    ? "the board has no GPIO window with a register model" : "the board's GPIO windows have GPIO0...GPIO\(gpioCount - 1)"
                try fail("physical pin \(physical) is \(text), but \(have)")
            }
            return .gpio(n)
        }
        try fail(
            "physical pin \(physical) is \"\(text)\"; expected \"GPIO<n>\" or one of \(fixedNames.map { "\"\($0)\"" }.joined(separator: ", "))"
        )
    }
}
