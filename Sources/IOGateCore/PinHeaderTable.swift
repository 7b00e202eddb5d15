/// The rows `iogate pins` prints: one per physical pin of a board's header, with what the GPIO
/// registers (and, where the kernel tells, libgpiod) say about each GPIO pin. Pure: the CLI reads
/// the registers and fills the rows; this renders them as a table (plain or with ANSI colours) or
/// as JSON.
public struct PinHeaderTable: Hashable, Sendable {
    /// One physical pin.
    public struct Row: Hashable, Sendable {
        /// Physical pin number, from 1.
        public var physical: Int
        /// `GPIO17`, `3V3`, `GND`.
        public var name: String
        /// The GPIO number, for GPIO pins.
        public var gpio: Int?
        /// `in`, `out`, `alt0`...`alt8`, `none`; nil when not read (a power pin, or not readable).
        public var mode: String?
        /// The signal an alternate function carries (`TXD0`), else `input`, `output` or `none`.
        public var function: String?
        /// 0 or 1.
        public var level: Int?
        /// `up`, `down`, `none`; nil where the block has no readable pull field.
        public var pull: String?
        /// The consumer holding the line, as libgpiod reports it.
        public var consumer: String?
        /// Why the pin could not be read (not granted, ...).
        public var problem: String?

        public init(
            physical: Int, name: String, gpio: Int? = nil, mode: String? = nil, function: String? = nil, level: Int? = nil,
            pull: String? = nil, consumer: String? = nil, problem: String? = nil
        ) {
            self.physical = physical
            self.name = name
            self.gpio = gpio
            self.mode = mode
            self.function = function
            self.level = level
            self.pull = pull
            self.consumer = consumer
            self.problem = problem
        }
    }

    /// The board id (`rpi4`).
    public var board: String
    /// The board's name.
    public var boardName: String
    /// The header's name (`J8`).
    public var header: String
    public var rows: [Row]

    public init(board: String, boardName: String, header: String, rows: [Row]) {
        self.board = board
        self.boardName = boardName
        self.header = header
        self.rows = rows
    }

    /// What a pin's mode means, in words, with the alternate function's signal where the model's
    /// table names it: `TXD0` for alt0 of GPIO14 on BCM2835.
    public static func functionText(_ function: PinFunction, pin: Int, layout: GPIOLayout) -> String {
        switch function {
        case .input: "input"
        case .output: "output"
        case .none: "none"
        case .alt: layout.functionName(pin: pin, function) ?? function.description
        }
    }

    static let columns = ["PIN", "NAME", "GPIO", "MODE", "FUNCTION", "LEVEL", "PULL", "CONSUMER"]

    /// The table: a title line, a column header, one line per pin. With `colour`, ANSI colours
    /// mark supply and ground pins, outputs, alternate functions, high levels and claimed lines;
    /// the columns line up the same either way. Trailing blanks are trimmed.
    public func text(colour: Bool) -> String {
        let cells: [[String]] = rows.map { r in
            guard let gpio = r.gpio else { return [String(r.physical), r.name, "", "", "", "", "", ""] }
            if let problem = r.problem { return [String(r.physical), r.name, String(gpio), "-", problem, "", "", ""] }
            return [
                String(r.physical), r.name, String(gpio), r.mode ?? "-", r.function ?? "-", r.level.map(String.init) ?? "-",
                r.pull ?? "-", r.consumer ?? "-",
            ]
        }
        var widths = Self.columns.map(\.count)
        for line in cells {
            for (i, c) in line.enumerated() { widths[i] = max(widths[i], c.count) }
        }
        func layout(_ line: [String], _ paint: (Int, String) -> String) -> String {
            var out = ""
            for (i, c) in line.enumerated() {
                // Numbers right-aligned, words left-aligned.
                let pad = String(repeating: " ", count: widths[i] - c.count)
                let cell = i == 0 || i == 2 ? pad + paint(i, c) : paint(i, c) + (i == line.count - 1 ? "" : pad)
                out += (i == 0 ? "" : "  ") + cell
            }
            while out.last == " " { out.removeLast() }
            return out
        }
        var lines = ["\(header) header of \(boardName) (\(board))", layout(Self.columns) { _, c in c }]
        for (row, line) in zip(rows, cells) {
            lines.append(layout(line) { i, c in colour && !c.isEmpty ? Self.paint(row, column: i, c) : c })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// ANSI SGR codes for one cell.
    static func paint(_ row: Row, column: Int, _ text: String) -> String {
        func sgr(_ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }
        switch column {
        case 1 where row.gpio == nil: return sgr(row.name == "GND" ? "2" : row.name == "NC" ? "2" : "1;31")
        case 3 where row.mode == "out": return sgr("33")
        case 3 where row.mode?.hasPrefix("alt") == true: return sgr("36")
        case 4 where row.problem != nil: return sgr("2")
        case 4 where row.mode?.hasPrefix("alt") == true: return sgr("36")
        case 5 where row.level == 1: return sgr("1;32")
        case 7 where row.consumer != nil: return sgr("35")
        default: return text
        }
    }

    /// The rows as one JSON object: `{"board": ..., "header": ..., "pins": [{...}, ...]}`, one pin
    /// per line; absent values are `null`.
    public func json() -> String {
        func s(_ v: String?) -> String { v.map(Self.jsonString) ?? "null" }
        func n(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        let pins = rows.map { r in
            "{\"physical\": \(r.physical), \"name\": \(s(r.name)), \"gpio\": \(n(r.gpio)), \"mode\": \(s(r.mode)), "
                + "\"function\": \(s(r.function)), \"level\": \(n(r.level)), \"pull\": \(s(r.pull)), "
                + "\"consumer\": \(s(r.consumer)), \"problem\": \(s(r.problem))}"
        }
        return "{\"board\": \(s(board)), \"name\": \(s(boardName)), \"header\": \(s(header)), \"pins\": [\n  "
            + pins.joined(separator: ",\n  ") + "\n]}\n"
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
