import Foundation
import IOGateCore
import Testing

/// The repository's `boards/` directory, found from this file's path (Tests/IOGateCoreTests/...).
private let boardsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("boards")

private let boardFileNames: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: boardsDirectory.path)) ?? []
    return names.filter { $0.hasSuffix(".toml") }.sorted()
}()

private func boardText(_ name: String) throws -> String {
    try String(contentsOf: boardsDirectory.appendingPathComponent(name), encoding: .utf8)
}

private let catalog: BoardCatalog = {
    do {
        return try BoardCatalog(files: boardFileNames.map { (file: $0, text: try boardText($0)) })
    } catch {
        return BoardCatalog(boards: [])
    }
}()

/// A small valid board; the malformed cases below each change one thing.
private let goodBoard = """
    id = "acme-one"
    name = "ACME One"
    soc = "ACME1"
    compatible = ["acme,one", "acme,soc1"]

    [[window]]
    name = "gpio"
    base = 0x20200000
    length = 0xB4
    model = "bcm2835"
    pins = 54
    source = "acme-one.dts, node gpio@7e200000"

    [[window]]
    name = "uart0"
    base = 0x20201000
    length = 0x200
    source = "acme-one.dts, node serial@7e201000"
    """

private func replacing(_ target: String, with replacement: String, in text: String) -> String {
    let r = text.range(of: target)!
    return text.replacingCharacters(in: r, with: replacement)
}

/// The 1-based line of the `occurrence`th line of `text` that contains `marker`.
private func line(of marker: String, occurrence: Int = 1, in text: String) -> Int? {
    let hits = text.components(separatedBy: "\n").enumerated().filter { $0.element.contains(marker) }
    return hits.count >= occurrence ? hits[occurrence - 1].offset + 1 : nil
}

/// A malformed board file and what its error must say.
struct BoardMistake: Sendable, CustomStringConvertible {
    var name: String
    var text: String
    /// Text on the line the error must name (`occurrence` picks among equal lines); nil: no line.
    var at: String?
    var occurrence = 1
    var fragments: [String]
    var description: String { name }
}

private let secondWindow = "[[window]]\nname = \"uart0\""

private let boardMistakes: [BoardMistake] = [
    BoardMistake(
        name: "unknown window key", text: replacing("length = 0x200", with: "lenght = 0x200", in: goodBoard), at: "lenght",
        fragments: ["unknown key 'lenght'", "did you mean 'length'?", "in [[window]] #2"]),
    BoardMistake(
        name: "unknown top-level key", text: replacing("soc = ", with: "chip = \"x\"\nsoc = ", in: goodBoard), at: "chip",
        fragments: ["unknown key 'chip'", "allowed keys: id, name, soc, compatible, notes, window"]),
    BoardMistake(
        name: "overlapping windows", text: replacing("base = 0x20201000", with: "base = 0x202000B0", in: goodBoard),
        at: "base = 0x202000B0",
        fragments: ["window 'uart0' 0x202000B0..<0x202002B0 overlaps window 'gpio' 0x20200000..<0x202000B4"]),
    BoardMistake(
        name: "missing source", text: replacing("source = \"acme-one.dts, node serial@7e201000\"", with: "", in: goodBoard),
        at: "[[window]]", occurrence: 2, fragments: ["missing required key 'source'", "[[window]] #2"]),
    BoardMistake(
        name: "empty source", text: replacing("\"acme-one.dts, node serial@7e201000\"", with: "\"  \"", in: goodBoard),
        at: "source = \"  \"", fragments: ["'source' is empty"]),
    BoardMistake(
        name: "model without pins", text: replacing("pins = 54\n", with: "", in: goodBoard), at: "[[window]]",
        fragments: ["'model' and 'pins' go together", "[[window]] #1"]),
    BoardMistake(
        name: "pins without model", text: replacing("model = \"bcm2835\"\n", with: "", in: goodBoard), at: "[[window]]",
        fragments: ["'model' and 'pins' go together"]),
    BoardMistake(
        name: "bad model name", text: replacing("\"bcm2835\"", with: "\"bcm2999\"", in: goodBoard), at: "model",
        fragments: ["unknown model 'bcm2999'", "known: bcm2835, bcm2711, rp1, omap, sunxi"]),
    BoardMistake(
        name: "duplicate window name", text: replacing("name = \"uart0\"", with: "name = \"gpio\"", in: goodBoard),
        at: "name = \"gpio\"", occurrence: 2, fragments: ["duplicate window name 'gpio'", "[[window]] #2"]),
    BoardMistake(
        name: "TOML syntax error", text: replacing("length = 0x200", with: "length = 0x200 0x300", in: goodBoard),
        at: "length = 0x200 0x300",
        fragments: ["TOML syntax error"]),
    BoardMistake(
        name: "bad hex", text: replacing("length = 0x200", with: "length = 0xZZ", in: goodBoard), at: "0xZZ",
        fragments: ["TOML syntax error"]),
    BoardMistake(
        name: "upper-case id", text: replacing("\"acme-one\"", with: "\"Acme-One\"", in: goodBoard), at: "id =",
        fragments: ["'id' is \"Acme-One\"", "lower-case letters, digits and '-'"]),
    BoardMistake(
        name: "missing id", text: replacing("id = \"acme-one\"", with: "", in: goodBoard), at: nil, fragments: ["missing required key 'id'"]
    ),
    BoardMistake(
        name: "empty compatible", text: replacing("[\"acme,one\", \"acme,soc1\"]", with: "[]", in: goodBoard), at: nil,
        fragments: ["missing required key 'compatible'"]),
    BoardMistake(
        name: "no windows", text: String(goodBoard[..<goodBoard.range(of: "[[window]]")!.lowerBound]), at: nil,
        fragments: ["no [[window]] tables"]),
    BoardMistake(
        name: "zero length", text: replacing("length = 0x200", with: "length = 0", in: goodBoard), at: "length = 0", occurrence: 2,
        fragments: ["has length 0"]),
    BoardMistake(
        name: "string base", text: replacing("base = 0x20201000", with: "base = \"0x20201000\"", in: goodBoard), at: "base = \"",
        fragments: ["'base' is a string; expected an integer"]),
    BoardMistake(
        name: "missing name", text: replacing("name = \"uart0\"\n", with: "", in: goodBoard), at: "[[window]]", occurrence: 2,
        fragments: ["missing required key 'name'"]),
]

@Suite("Board files")
struct BoardFileTests {
    @Test func thereAreBoardFiles() {
        #expect(boardFileNames.count >= 12, "found \(boardFileNames) in \(boardsDirectory.path)")
        #expect(boardFileNames.contains("rpi4.toml"))
    }

    @Test(arguments: boardFileNames)
    func boardFile(_ name: String) throws {
        let board = try Board.parse(text: try boardText(name), file: name)
        #expect(board.id + ".toml" == name)
        #expect(!board.name.isEmpty && !board.soc.isEmpty)
        #expect(!board.compatible.isEmpty)
        #expect(board.compatible.allSatisfy { $0.contains(",") && !$0.contains(" ") }, "\(board.compatible)")
        #expect(Set(board.compatible).count == board.compatible.count, "duplicate compatible string")
        #expect(!board.windows.isEmpty)
        #expect(Set(board.windows.map(\.name)).count == board.windows.count, "duplicate window name")
        for (i, w) in board.windows.enumerated() {
            #expect(!w.name.isEmpty)
            #expect(!w.source.trimmingCharacters(in: .whitespaces).isEmpty, "\(w.name) has no source")
            if w.model != nil {
                #expect((w.pins ?? 0) > 0, "GPIO window \(w.name) needs pins")
            } else {
                #expect(w.pins == nil, "\(w.name) has pins but no model")
            }
            for other in board.windows[(i + 1)...] {
                #expect(!w.range.overlaps(other.range), "\(w.name) \(w.range) overlaps \(other.name) \(other.range)")
            }
        }
        #expect(!board.gpioWindows.isEmpty, "\(board.id) has no GPIO window")
        #expect(board.gpioWindows == board.windows.filter { $0.model != nil })
    }

    @Test func catalogHoldsEveryBoardOnce() throws {
        #expect(catalog.boards.map(\.id) == boardFileNames.map { String($0.dropLast(5)) })
        // Detection takes the first board listing a string: two boards sharing one would be ambiguous.
        var owner: [String: String] = [:]
        for b in catalog.boards {
            for c in b.compatible {
                #expect(owner[c] == nil, "'\(c)' is listed by both \(owner[c] ?? "") and \(b.id)")
                owner[c] = b.id
            }
        }
    }

    @Test func rpi4GPIOWindowCoversThePullRegisters() throws {
        let gpio = try #require(try catalog.board(id: "rpi4").window(named: "gpio"))
        #expect(gpio.range.base == 0xFE20_0000)
        #expect(gpio.range.contains(0xFE20_00E4, size: 0xF3 - 0xE4 + 1))  // GPIO_PUP_PDN_CNTRL_REG0..3
        #expect(gpio.model == .bcm2711)
        #expect(gpio.pins == 58)
    }

    @Test(arguments: [
        ("rpi3", "gpio", 0x3F20_0000 as UInt64, GPIOModelKind.bcm2835),
        ("rpi4", "gpio", 0xFE20_0000, .bcm2711),
        ("beaglebone-black", "gpio0", 0x44E0_7000, .omap),
    ])
    func knownGPIOBases(board: String, window: String, base: UInt64, model: GPIOModelKind) throws {
        let w = try #require(try catalog.board(id: board).window(named: window))
        #expect(w.range.base == base)
        #expect(w.model == model)
    }

    @Test func rpi5GPIOIsAbove4GiB() throws {
        let rpi5 = try catalog.board(id: "rpi5")
        let rp1 = rpi5.gpioWindows.filter { $0.model == .rp1 }
        #expect(!rp1.isEmpty)
        #expect(rp1.allSatisfy { $0.range.base >> 32 == 0x1F })
    }

    @Test func unknownBoardIDListsTheKnownOnes() {
        let error = expectThrows(IOGateError.self) { try catalog.board(id: "rpi9") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("no board with id 'rpi9'") == true)
        #expect(error?.message.contains("beaglebone-black, ") == true)
        #expect(error?.message.contains("rpi4") == true)
    }
}

@Suite("Board detection")
struct BoardDetectionTests {
    @Test(arguments: [
        (["raspberrypi,4-model-b", "brcm,bcm2711"], "rpi4"),
        (["raspberrypi,400", "brcm,bcm2711"], "rpi4"),
        (["raspberrypi,3-model-b-plus", "brcm,bcm2837"], "rpi3"),
        (["raspberrypi,3-model-b", "brcm,bcm2837"], "rpi3"),
        (["raspberrypi,2-model-b-rev2", "brcm,bcm2837"], "rpi3"),
        (["raspberrypi,2-model-b", "brcm,bcm2836"], "rpi2"),
        (["raspberrypi,model-b-plus", "brcm,bcm2835"], "rpi1"),
        (["raspberrypi,5-model-b", "brcm,bcm2712"], "rpi5"),
        (["ti,am335x-bone-black", "ti,am335x-bone", "ti,am33xx"], "beaglebone-black"),
        (["xunlong,orangepi-pc", "allwinner,sun8i-h3"], "orangepi-pc"),
        (["radxa,rock-5b", "rockchip,rk3588"], "rock5b"),
        (["hardkernel,odroid-c4", "amlogic,sm1"], "odroid-c4"),
        (["nvidia,p3450-0000", "nvidia,tegra210"], "jetson-nano"),
        (["fsl,imx8mm-evk", "fsl,imx8mm"], "imx8mm-evk"),
        // An unknown board on a known SoC falls back to the SoC string.
        (["raspberrypi,4-future-board", "brcm,bcm2711"], "rpi4"),
        (["radxa,rockpi4a", "radxa,rockpi4", "rockchip,rk3399"], "rockpi4"),
    ])
    func detect(compatible: [String], expected: String) throws {
        #expect(try catalog.detect(compatible: compatible).id == expected)
    }

    @Test func mostSpecificStringWins() throws {
        // Board "aaa-soc" sorts first and claims the SoC string; the board string must still win.
        let generic = try Board.parse(
            text: replacing(
                "[\"acme,one\", \"acme,soc1\"]", with: "[\"acme,soc1\"]", in: replacing("\"acme-one\"", with: "\"aaa-soc\"", in: goodBoard)),
            file: "aaa-soc.toml")
        let specific = try Board.parse(text: goodBoard, file: "acme-one.toml")
        let c = BoardCatalog(boards: [specific, generic])
        #expect(c.boards.map(\.id) == ["aaa-soc", "acme-one"])
        #expect(try c.detect(compatible: ["acme,one", "acme,soc1"]).id == "acme-one")
        #expect(try c.detect(compatible: ["acme,two", "acme,soc1"]).id == "aaa-soc")
        #expect(try c.detect(compatible: ["acme,soc1", "acme,one"]).id == "aaa-soc")  // order is the device's
    }

    @Test(arguments: [
        (["acme,widget", "acme,soc"], "read: \"acme,widget\", \"acme,soc\""),
        ([], "read: nothing"),
    ])
    func unknownCompatibleListsWhatWasRead(compatible: [String], fragment: String) {
        let error = expectThrows(IOGateError.self) { try catalog.detect(compatible: compatible) }
        #expect(error?.code == .board)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("board = \"<id>\" with one of: beaglebone-black") == true, "\(error?.message ?? "")")
    }

    @Test(
        arguments: [
            (Array("raspberrypi,4-model-b\0brcm,bcm2711\0".utf8), ["raspberrypi,4-model-b", "brcm,bcm2711"]),
            (Array("raspberrypi,4-model-b\0brcm,bcm2711".utf8), ["raspberrypi,4-model-b", "brcm,bcm2711"]),
            (Array("ti,am335x-bone-black\0ti,am335x-bone\0ti,am33xx\0".utf8), ["ti,am335x-bone-black", "ti,am335x-bone", "ti,am33xx"]),
            (Array("a\0\0b\0".utf8), ["a", "b"]),
            ([0], []),
            ([], []),
        ] as [([UInt8], [String])])
    func compatibleStrings(raw: [UInt8], strings: [String]) {
        #expect(BoardCatalog.compatibleStrings(raw) == strings)
    }

    @Test func compatibleBytesFeedDetection() throws {
        let raw = Array("raspberrypi,3-model-b-plus\0brcm,bcm2837\0".utf8)
        #expect(try catalog.detect(compatible: BoardCatalog.compatibleStrings(raw)).id == "rpi3")
    }
}

@Suite("Board parsing")
struct BoardParsingTests {
    @Test func goodBoardParses() throws {
        let b = try Board.parse(text: goodBoard, file: "acme-one.toml")
        #expect(b.id == "acme-one")
        #expect(b.name == "ACME One")
        #expect(b.soc == "ACME1")
        #expect(b.compatible == ["acme,one", "acme,soc1"])
        #expect(b.notes == nil)
        #expect(b.windows.map(\.name) == ["gpio", "uart0"])
        let gpioRange = try PhysicalRange(base: 0x2020_0000, length: 0xB4)
        #expect(
            b.window(named: "gpio")
                == BoardWindow(
                    name: "gpio", range: gpioRange, model: .bcm2835, pins: 54, source: "acme-one.dts, node gpio@7e200000"))
        #expect(b.window(named: "uart0")?.model == nil)
        #expect(b.window(named: "spi0") == nil)
        #expect(b.gpioWindows.map(\.name) == ["gpio"])
    }

    @Test(arguments: boardMistakes)
    func malformed(_ m: BoardMistake) throws {
        let file = "boards/acme-one.toml"
        let error = expectThrows(IOGateError.self) { try Board.parse(text: m.text, file: file) }
        guard let error else { return }
        #expect(error.code == .board)
        if let at = m.at {
            let n = try #require(line(of: at, occurrence: m.occurrence, in: m.text))
            #expect(error.message.hasPrefix("\(file):\(n):"), "expected line \(n): \(error.message)")
        } else {
            #expect(error.message.hasPrefix("\(file)"), "\(error.message)")
        }
        for f in m.fragments {
            #expect(error.message.contains(f), "expected '\(f)' in: \(error.message)")
        }
    }

    @Test func duplicateIDInCatalog() {
        let error = expectThrows(IOGateError.self) {
            try BoardCatalog(files: [(file: "a.toml", text: goodBoard), (file: "b.toml", text: goodBoard)])
        }
        #expect(error?.code == .board)
        #expect(error?.message == "b.toml: board id 'acme-one' is already used by ACME One")
    }

    @Test func catalogStopsAtTheFirstBadFile() {
        let bad = replacing("pins = 54\n", with: "", in: goodBoard)
        let error = expectThrows(IOGateError.self) {
            try BoardCatalog(files: [(file: "good.toml", text: goodBoard), (file: "bad.toml", text: bad)])
        }
        #expect(error?.message.hasPrefix("bad.toml:") == true)
    }
}

/// The boards compiled into the binaries are exactly the repository's `boards/` files
/// (`scripts/gen-builtin-boards.py` writes them; run it after changing a board file).
@Suite struct BuiltinBoardsTests {
    @Test func builtinBoardsAreTheBoardFiles() throws {
        #expect(BuiltinBoards.files.map(\.name) == boardFileNames)
        for (name, text) in BuiltinBoards.files {
            let expected = try boardText(name)
            #expect(text == expected, "\(name) differs from boards/\(name): run scripts/gen-builtin-boards.py")
        }
        #expect(try BoardCatalog.builtin().boards.map(\.id) == catalog.boards.map(\.id))
    }

    @Test func aBoardDirectoryAddsAndOverridesByID() throws {
        let custom = try BoardCatalog(files: [
            (file: "rpi4.toml", text: try boardText("rpi4.toml").replacingOccurrences(of: "name = \"", with: "name = \"Custom ")),
            (file: "acme.toml", text: goodBoard),
        ])
        let merged = try BoardCatalog.builtin().overridden(by: custom)
        #expect(merged.boards.count == boardFileNames.count + 1)
        #expect(try merged.board(id: "rpi4").name.hasPrefix("Custom "))
        #expect(try merged.board(id: "acme-one").name == "ACME One")
        #expect(try merged.board(id: "rpi3").name == (try catalog.board(id: "rpi3").name))
    }
}
