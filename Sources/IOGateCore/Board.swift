/// The register layout of a GPIO block, as named in board files.
public enum GPIOModelKind: String, CaseIterable, Sendable {
    case bcm2835, bcm2711, rp1, omap, sunxi, rockchip, imx, tegra, meson
}

/// A named window of a board: a physical range with its provenance.
public struct BoardWindow: Hashable, Sendable {
    public var name: String
    public var range: PhysicalRange
    /// The GPIO register model, for GPIO blocks.
    public var model: GPIOModelKind?
    /// Number of GPIO lines in the block, with `model`.
    public var pins: Int?
    /// Where the figures come from: kernel device-tree file and node, with `ranges` arithmetic.
    public var source: String
    public var notes: String?
    /// The label of the kernel GPIO chip that drives this block (`gpiochip_label`), with `model`.
    public var gpiochipLabel: String?

    public init(
        name: String, range: PhysicalRange, model: GPIOModelKind? = nil, pins: Int? = nil, source: String, notes: String? = nil,
        gpiochipLabel: String? = nil
    ) {
        self.name = name
        self.range = range
        self.model = model
        self.pins = pins
        self.source = source
        self.notes = notes
        self.gpiochipLabel = gpiochipLabel
    }
}

/// A board description from `boards/<id>.toml`.
public struct Board: Hashable, Sendable {
    public var id: String
    public var name: String
    public var soc: String
    /// Device-tree `compatible` strings, most specific first.
    public var compatible: [String]
    public var notes: String?
    public var windows: [BoardWindow]
    /// The pin header (`[header]`), for boards whose file describes one.
    public var header: BoardHeader? = nil
    /// The pins of the board's header meant for users (`user_pins`), numbered as `iogate gpio`
    /// numbers them: what `pins = "user"` grants. nil when the board file names none.
    public var userPins: [Int]? = nil
    /// Where `userPins` comes from (`user_pins_source`).
    public var userPinsSource: String? = nil

    /// The window called `name`.
    public func window(named name: String) -> BoardWindow? { windows.first { $0.name == name } }

    /// The GPIO windows, in file order.
    public var gpioWindows: [BoardWindow] { windows.filter { $0.model != nil } }

    static let boardKeys = ["id", "name", "soc", "compatible", "notes", "window", "header"]
    /// The header's user pins (per-pin grants; kept apart from the header map's keys).
    static let userPinKeys = ["user_pins", "user_pins_source"]
    static let windowKeys = ["name", "base", "length", "model", "pins", "source", "notes", "gpiochip_label"]

    /// Parses a board file; errors name the file, line and reason.
    public static func parse(text: String, file: String) throws(IOGateError) -> Board {
        let doc = try TOMLDocument(text: text, file: file, code: .board)
        let top = TOMLSection(root: doc, code: .board)
        try top.checkKeys(boardKeys + userPinKeys)
        let id = try top.requiredString("id")
        guard !id.isEmpty, id.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            throw top.error("'id' is \"\(id)\"; expected lower-case letters, digits and '-'", key: "id")
        }
        let compatible = try top.stringArray("compatible") ?? []
        guard !compatible.isEmpty else { throw top.error("missing required key 'compatible' (an array of device-tree strings)") }
        var windows: [BoardWindow] = []
        for section in try top.tables("window") {
            try section.checkKeys(windowKeys)
            let name = try section.requiredString("name")
            let base = try section.requiredUInt64("base")
            let length = try section.requiredUInt64("length")
            let range: PhysicalRange
            do { range = try PhysicalRange(base: base, length: length) } catch {
                throw section.error(error.message, key: "length")
            }
            let source = try section.requiredString("source")
            guard !source.trimmingCharacters(in: " ").isEmpty else {
                throw section.error("'source' is empty; name the kernel device-tree file and node", key: "source")
            }
            var model: GPIOModelKind?
            if let m = try section.string("model") {
                guard let k = GPIOModelKind(rawValue: m) else {
                    throw section.error(
                        "unknown model '\(m)'; known: \(GPIOModelKind.allCases.map(\.rawValue).joined(separator: ", "))", key: "model")
                }
                model = k
            }
            let pins = try section.uint64("pins").map { Int(clamping: $0) }
            guard (model == nil) == (pins == nil) else {
                throw section.error("'model' and 'pins' go together: a GPIO block needs both, another window neither")
            }
            let gpiochipLabel = try section.string("gpiochip_label")
            if gpiochipLabel != nil && model == nil {
                throw section.error(
                    "'gpiochip_label' names the kernel GPIO chip of a GPIO block; this window has no 'model'", key: "gpiochip_label")
            }
            if windows.contains(where: { $0.name == name }) {
                throw section.error("duplicate window name '\(name)'", key: "name")
            }
            if let other = windows.first(where: { $0.range.overlaps(range) }) {
                throw section.error("window '\(name)' \(range) overlaps window '\(other.name)' \(other.range)", key: "base")
            }
            windows.append(
                BoardWindow(
                    name: name, range: range, model: model, pins: pins, source: source, notes: try section.string("notes"),
                    gpiochipLabel: gpiochipLabel))
        }
        guard !windows.isEmpty else { throw top.error("no [[window]] tables; a board needs at least one window") }
        let gpioCount = windows.reduce(0) { $0 + (GPIOLayout(window: $1)?.pins ?? 0) }
        let header = try top.subtable("header").map { s throws(IOGateError) in try BoardHeader.parse(s, gpioCount: gpioCount) }
        var board = Board(
            id: id, name: try top.requiredString("name"), soc: try top.requiredString("soc"),
            compatible: compatible, notes: try top.string("notes"), windows: windows, header: header)
        try board.parseUserPins(top)
        return board
    }
}

extension Board {
    /// `user_pins = [...]` with its `user_pins_source`: pins of the board's GPIO blocks.
    mutating func parseUserPins(_ top: TOMLSection) throws(IOGateError) {
        guard let list = try top.uint64Array("user_pins") else {
            if top.has("user_pins_source") { throw top.error("'user_pins_source' without user_pins", key: "user_pins_source") }
            return
        }
        guard let source = try top.string("user_pins_source"), !source.isEmpty else {
            throw top.error("'user_pins' needs 'user_pins_source': where the header's user pins are documented", key: "user_pins")
        }
        guard let map = PigpioPinMap(board: self) else {
            throw top.error("'user_pins' needs a GPIO window with a register model (bcm2835, bcm2711, rp1, omap)", key: "user_pins")
        }
        guard !list.isEmpty else { throw top.error("'user_pins' is empty", key: "user_pins") }
        for p in list where p >= UInt64(map.pinCount) {
            throw top.error("user pin \(p) does not exist; this board's pins are 0...\(map.pinCount - 1)", key: "user_pins")
        }
        userPins = Array(Set(list.map { Int($0) })).sorted()
        userPinsSource = source
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self[...]
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}

/// The set of known boards, and auto-detection from `/proc/device-tree/compatible`.
public struct BoardCatalog: Sendable {
    public let boards: [Board]

    public init(boards: [Board]) { self.boards = boards.sorted { $0.id < $1.id } }

    /// Parses every `(file, text)` pair; the first bad file stops it with its error.
    public init(files: [(file: String, text: String)]) throws(IOGateError) {
        var boards: [Board] = []
        for f in files {
            let b = try Board.parse(text: f.text, file: f.file)
            if let dup = boards.first(where: { $0.id == b.id }) {
                throw IOGateError(.board, "\(f.file): board id '\(b.id)' is already used by \(dup.name)")
            }
            boards.append(b)
        }
        self.init(boards: boards)
    }

    /// The board with this id, or an error listing the known ids.
    public func board(id: String) throws(IOGateError) -> Board {
        guard let b = boards.first(where: { $0.id == id }) else {
            throw IOGateError(.notFound, "no board with id '\(id)'; known boards: \(boards.map(\.id).joined(separator: ", "))")
        }
        return b
    }

    /// Splits the raw contents of `/proc/device-tree/compatible` (NUL-separated).
    public static func compatibleStrings(_ raw: [UInt8]) -> [String] {
        raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Picks the board for a device's compatible list: the first (most specific) string
    /// that any board lists wins.
    public func detect(compatible: [String]) throws(IOGateError) -> Board {
        for c in compatible {
            if let b = boards.first(where: { $0.compatible.contains(c) }) { return b }
        }
        let read = compatible.isEmpty ? "nothing" : compatible.map { "\"\($0)\"" }.joined(separator: ", ")
        throw IOGateError(
            .board,
            "no board matches this device's compatible strings (read: \(read)); set board = \"<id>\" with one of: \(boards.map(\.id).joined(separator: ", "))"
        )
    }
}
