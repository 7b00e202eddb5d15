import ArgumentParser
import Glibc
import IOGate
import IOGateGPIO
import IOGateSystem

/// `iogate pins [--json] [--board ID]`: the board's pin header, one line per physical pin, with
/// each GPIO pin's mode, function, level and pull read through the daemon (the same client path
/// as `iogate gpio`), and the consumer libgpiod reports for its line.
struct Pins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the board's pin header: each pin's name, GPIO number, function, level, pull and consumer.",
        discussion: """
            The board is found from the GPIO windows the daemon grants you (their names and addresses are \
            matched against the board files; where several boards match, the one this machine's device tree \
            names wins, else the first by id). --board names it instead.
            Colours are used when standard output is a terminal and NO_COLOR is not set.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: "The board whose header to show (default: found from the granted GPIO windows).") var board: String?
    @Option(name: .long, help: "Board files adding to or overriding the built-in boards (default: $IOGATE_BOARDS, ./boards).")
    var boards: String?

    func run() throws {
        let gate = try global.connect()
        let granted = try gate.gpioWindows()
        let catalog = try BoardDirectory.catalog(BoardDirectory.locate(boards))
        let board = try pick(catalog, granted.map(\.0))
        guard let header = board.header else {
            throw IOGateError(
                .notFound, "board \(board.id) (\(board.name)) has no [header] in its board file; boards with one: \(withHeaders(catalog))")
        }
        let chips = (try? LibgpiodLineSource().chips()) ?? []
        // Board-wide GPIO numbers count across the board's modelled GPIO windows in file order.
        var consumers: [String: [Int: String]] = [:]
        var banks: [(window: BoardWindow, layout: GPIOLayout, first: Int)] = []
        var next = 0
        for w in board.windows {
            guard let layout = GPIOLayout(window: w) else { continue }
            banks.append((w, layout, next))
            consumers[w.name] = GPIOChipMatcher.consumers(for: w, among: chips)
            next += layout.pins
        }
        var rows: [PinHeaderTable.Row] = []
        for (i, pin) in header.pins.enumerated() {
            var row = PinHeaderTable.Row(physical: i + 1, name: pin.description)
            if case .gpio(let n) = pin, let bank = banks.last(where: { $0.first <= n }) {
                row.gpio = n
                let line = n - bank.first
                read(&row, bank: bank.window, layout: bank.layout, line: line, granted: granted, gate: gate)
                row.consumer = consumers[bank.window.name]?[line]
            }
            rows.append(row)
        }
        let table = PinHeaderTable(board: board.id, boardName: board.name, header: header.name, rows: rows)
        if json {
            print(table.json(), terminator: "")
        } else {
            print(table.text(colour: Self.useColour()), terminator: "")
        }
    }

    /// Fills the register-derived fields of a GPIO row; a pin whose window is not granted, or
    /// whose reads are refused, says so instead.
    func read(
        _ row: inout PinHeaderTable.Row, bank: BoardWindow, layout: GPIOLayout, line: Int, granted: [(WindowInfo, GPIOLayout)],
        gate: IOGateClient
    ) {
        guard let window = granted.first(where: { $0.0.name == bank.name && $0.0.base == bank.range.base })?.0 else {
            row.problem = "(\(bank.name) not granted)"
            return
        }
        do {
            let p = try GPIOPin(window: window, layout: layout, pin: line)
            let function = try p.function(gate)
            row.mode = function.description
            row.function = PinHeaderTable.functionText(function, pin: line, layout: layout)
            row.level = try p.get(gate) ? 1 : 0
            row.pull = try p.pull(gate)?.description
        } catch {
            row.mode = nil
            row.problem = "(\(error.code))"
        }
    }

    /// The board: `--board`, else the boards with a header whose windows include every granted
    /// GPIO window (same name and base), preferring the one this machine's device tree names.
    func pick(_ catalog: BoardCatalog, _ granted: [WindowInfo]) throws(IOGateError) -> Board {
        if let board { return try catalog.board(id: board) }
        guard !granted.isEmpty else {
            throw IOGateError(
                .notFound,
                "no GPIO window with a supported register model is granted to you, so the board cannot be found; name it with --board (boards with a header: \(withHeaders(catalog)))"
            )
        }
        let matching = catalog.boards.filter { b in
            granted.allSatisfy { g in b.window(named: g.name).map { $0.range.base == g.base && $0.model?.rawValue == g.model } ?? false }
        }
        guard let first = matching.first(where: { $0.header != nil }) ?? matching.first else {
            let have = granted.map { "\($0.name) at \(hex($0.base)) (\($0.model))" }.joined(separator: ", ")
            throw IOGateError(.notFound, "no known board has the GPIO windows granted to you (\(have)); name the board with --board")
        }
        if let compatible = BoardDirectory.machineCompatible() {
            for c in compatible {
                if let b = matching.first(where: { $0.compatible.contains(c) }) { return b }
            }
        }
        return first
    }

    func withHeaders(_ catalog: BoardCatalog) -> String {
        catalog.boards.filter { $0.header != nil }.map(\.id).joined(separator: ", ")
    }

    /// Colours only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM is dumb.
    static func useColour() -> Bool {
        if let v = FileSystem.environment("NO_COLOR"), !v.isEmpty { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isatty(STDOUT_FILENO) == 1
    }
}
