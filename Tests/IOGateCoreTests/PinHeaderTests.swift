import IOGateCore
import Testing

/// A small board with a GPIO window of 54 pins and a header, for the `[header]` parser.
private func board(header: String) -> String {
    """
    id = "acme-one"
    name = "ACME One"
    soc = "ACME1"
    compatible = ["acme,one"]

    [[window]]
    name = "gpio"
    base = 0x20200000
    length = 0xB4
    model = "bcm2835"
    pins = 54
    source = "acme-one.dts, node gpio@7e200000"

    \(header)
    """
}

private func parse(_ header: String) throws -> Board { try Board.parse(text: board(header: header), file: "acme-one.toml") }

@Suite struct BoardHeaderTests {
    @Test func headerParsesInPhysicalOrder() throws {
        let b = try parse(
            """
            [header]
            name = "P1"
            source = "acme-one schematic, sheet 3"
            pins = ["3V3", "5V", "GPIO2", "GND",
                    "GPIO53", "NC"]
            """)
        let h = try #require(b.header)
        #expect(h.name == "P1")
        #expect(h.source == "acme-one schematic, sheet 3")
        #expect(h.pins == [.fixed("3V3"), .fixed("5V"), .gpio(2), .fixed("GND"), .gpio(53), .fixed("NC")])
        #expect(h.pins.map(\.description) == ["3V3", "5V", "GPIO2", "GND", "GPIO53", "NC"])
    }

    @Test func boardWithoutHeaderHasNone() throws {
        #expect(try parse("").header == nil)
    }

    /// Each bad header map is refused with its line and what is wrong.
    @Test(
        arguments: [
            (
                "[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"3V3\", \"VCC\"]", 17,
                ["physical pin 2 is \"VCC\"", "\"GPIO<n>\" or one of"]
            ),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"GPIO54\"]", 17, ["physical pin 1 is GPIO54", "GPIO0...GPIO53"]),
            (
                "[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"GPIO4\", \"GPIO4\"]", 17,
                ["physical pin 2 is GPIO4", "physical pin 1 already"]
            ),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"GPIOx\"]", 17, ["\"GPIOx\"", "decimal number"]),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"GPIO-1\"]", 17, ["\"GPIO-1\""]),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = [17]", 17, ["physical pin 1 in 'pins' is an integer", "expected a string"]),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = []", 17, ["'pins' is empty"]),
            ("[header]\nname = \"P1\"\nsource = \"  \"\npins = [\"GND\"]", 16, ["'source' is empty"]),
            ("[header]\nname = \"P1\"\nsource = \"s\"", 14, ["missing required key 'pins'"]),
            ("[header]\nname = \"P1\"\nsource = \"s\"\npins = [\"GND\"]\nlength = 40", 18, ["length"]),
            ("[[header]]\nname = \"P1\"\nsource = \"s\"\npins = [\"GND\"]", 14, ["'header' is an array", "expected a table ([header])"]),
        ] as [(String, Int, [String])])
    func badHeaderIsRefused(_ text: String, _ line: Int, _ fragments: [String]) throws {
        let error = expectThrows(IOGateError.self) { try parse(text) }
        guard let error else { return }
        #expect(error.code == .board)
        #expect(error.message.hasPrefix("acme-one.toml:\(line):"), "\(error.message)")
        for f in fragments { #expect(error.message.contains(f), "expected '\(f)' in: \(error.message)") }
    }

    @Test func headerOnABoardWithoutModelledGPIONamesTheReason() throws {
        let text = """
            id = "acme-two"
            name = "ACME Two"
            soc = "ACME2"
            compatible = ["acme,two"]
            [[window]]
            name = "uart0"
            base = 0x1000
            length = 0x100
            source = "acme-two.dts"
            [header]
            name = "P1"
            source = "s"
            pins = ["GPIO0"]
            """
        let error = expectThrows(IOGateError.self) { try Board.parse(text: text, file: "acme-two.toml") }
        #expect(error?.message.contains("the board has no GPIO window with a register model") == true, "\(error?.message ?? "")")
    }

    /// The Raspberry Pi 40-pin header (B+ layout) in every Pi board file: the same map, as the
    /// Raspberry Pi documentation's pinout draws it.
    @Test(arguments: ["rpi1", "rpi2", "rpi3", "rpi4", "rpi5"])
    func raspberryPiHeader(_ id: String) throws {
        let catalog = try BoardCatalog(files: BuiltinBoards.files.map { (file: $0.name, text: $0.text) })
        let h = try #require(try catalog.board(id: id).header)
        #expect(h.name == "J8")
        #expect(h.pins.count == 40)
        let gpio = h.pins.enumerated().compactMap { i, p -> (Int, Int)? in if case .gpio(let n) = p { (i + 1, n) } else { nil } }
        #expect(gpio.count == 28)
        #expect(Set(gpio.map(\.1)) == Set(0...27))
        let byPhysical = Dictionary(uniqueKeysWithValues: gpio)
        #expect(byPhysical[3] == 2 && byPhysical[5] == 3 && byPhysical[8] == 14 && byPhysical[10] == 15)
        #expect(byPhysical[11] == 17 && byPhysical[12] == 18 && byPhysical[27] == 0 && byPhysical[28] == 1 && byPhysical[40] == 21)
        #expect([1, 17].allSatisfy { h.pins[$0 - 1] == .fixed("3V3") })
        #expect([2, 4].allSatisfy { h.pins[$0 - 1] == .fixed("5V") })
        #expect([6, 9, 14, 20, 25, 30, 34, 39].allSatisfy { h.pins[$0 - 1] == .fixed("GND") })
    }
}

@Suite struct FunctionNameTests {
    let bcm2835 = GPIOLayout(model: .bcm2835, pins: 54)!
    let bcm2711 = GPIOLayout(model: .bcm2711, pins: 58)!
    let rp1 = GPIOLayout(model: .rp1, pins: 54)!
    let omap = GPIOLayout(model: .omap, pins: 32)!

    @Test func datasheetNames() {
        // BCM2835 ARM Peripherals table 6-31.
        #expect(bcm2835.functionName(pin: 14, .alt(0)) == "TXD0")
        #expect(bcm2835.functionName(pin: 14, .alt(5)) == "TXD1")
        #expect(bcm2835.functionName(pin: 2, .alt(0)) == "SDA1")
        #expect(bcm2835.functionName(pin: 18, .alt(5)) == "PWM0")
        #expect(bcm2835.functionName(pin: 45, .alt(4)) == "SPI2_CE2_N")
        // BCM2711 ARM Peripherals section 5.3.
        #expect(bcm2711.functionName(pin: 14, .alt(0)) == "TXD0")
        #expect(bcm2711.functionName(pin: 0, .alt(4)) == "TXD2")
        #expect(bcm2711.functionName(pin: 12, .alt(0)) == "PWM0_0")
        #expect(bcm2711.functionName(pin: 22, .alt(5)) == "SDA6")
        #expect(bcm2711.functionName(pin: 40, .alt(0)) == "PWM1_0")
        // RP1 Peripherals section 3.1.1: UART0 moved to a4.
        #expect(rp1.functionName(pin: 14, .alt(4)) == "TXD0")
        #expect(rp1.functionName(pin: 14, .alt(0)) == "PWM0_CHAN2")
        #expect(rp1.functionName(pin: 2, .alt(3)) == "SDA1")
        #expect(rp1.functionName(pin: 27, .alt(8)) == "SPI1_CE1")
    }

    @Test func reservedUnnamedAndNonAlternateFunctionsHaveNoName() {
        #expect(bcm2835.functionName(pin: 16, .alt(0)) == nil)  // <reserved>
        #expect(bcm2835.functionName(pin: 0, .alt(2)) == nil)
        #expect(bcm2835.functionName(pin: 50, .alt(0)) == nil)  // internal, not in the table
        #expect(bcm2711.functionName(pin: 57, .alt(0)) == nil)
        #expect(rp1.functionName(pin: 28, .alt(0)) == nil)  // bank 1: not tabled
        #expect(rp1.functionName(pin: 0, .alt(4)) == nil)
        #expect(bcm2835.functionName(pin: 14, .input) == nil)
        #expect(bcm2835.functionName(pin: 14, .output) == nil)
        #expect(rp1.functionName(pin: 14, .none) == nil)
        #expect(omap.functionName(pin: 3, .alt(0)) == nil)
        #expect(bcm2835.functionName(pin: -1, .alt(0)) == nil)
        #expect(bcm2835.functionName(pin: 14, .alt(6)) == nil)
    }

    @Test func tablesHaveOneColumnPerAlternateFunction() {
        #expect(bcm2835.functionName(pin: 45, .alt(5)) == nil && bcm2835.functionName(pin: 46, .alt(0)) == nil)
        for pin in 0..<46 {
            // Every documented pin of BCM2835/BCM2711 has a name in alt0 or alt1 (SA or SD lines, or SDA/SCL).
            #expect(
                bcm2835.functionName(pin: pin, .alt(0)) != nil || bcm2835.functionName(pin: pin, .alt(1)) != nil || pin == 26 || pin == 27)
            #expect(bcm2711.functionName(pin: pin, .alt(1)) != nil || bcm2711.functionName(pin: pin, .alt(0)) != nil)
        }
        for pin in 0..<28 { #expect(rp1.functionName(pin: pin, .alt(5)) == "SYS_RIO0\(pin)") }
    }

    @Test func functionTextNamesTheSignal() {
        #expect(PinHeaderTable.functionText(.alt(0), pin: 14, layout: bcm2711) == "TXD0")
        #expect(PinHeaderTable.functionText(.alt(0), pin: 16, layout: bcm2711) == "alt0")
        #expect(PinHeaderTable.functionText(.input, pin: 14, layout: bcm2711) == "input")
        #expect(PinHeaderTable.functionText(.output, pin: 14, layout: bcm2711) == "output")
        #expect(PinHeaderTable.functionText(.none, pin: 14, layout: rp1) == "none")
    }
}

@Suite struct PinHeaderTableTests {
    let table = PinHeaderTable(
        board: "acme-one", boardName: "ACME One", header: "P1",
        rows: [
            .init(physical: 1, name: "3V3"),
            .init(physical: 2, name: "GND"),
            .init(physical: 3, name: "GPIO14", gpio: 14, mode: "alt0", function: "TXD0", level: 1, pull: "none", consumer: nil),
            .init(physical: 4, name: "GPIO17", gpio: 17, mode: "out", function: "output", level: 0, pull: nil, consumer: "led \"a\""),
            .init(physical: 5, name: "GPIO40", gpio: 40, problem: "(gpio1 not granted)"),
        ])

    @Test func plainText() {
        #expect(
            table.text(colour: false) == """
                P1 header of ACME One (acme-one)
                PIN  NAME    GPIO  MODE  FUNCTION             LEVEL  PULL  CONSUMER
                  1  3V3
                  2  GND
                  3  GPIO14    14  alt0  TXD0                 1      none  -
                  4  GPIO17    17  out   output               0      -     led "a"
                  5  GPIO40    40  -     (gpio1 not granted)

                """)
    }

    @Test func colourMarksTheCellsButKeepsTheColumns() {
        let text = table.text(colour: true)
        let esc = "\u{1B}["
        #expect(text.contains("\(esc)1;31m3V3\(esc)0m"))
        #expect(text.contains("\(esc)2mGND\(esc)0m"))
        #expect(text.contains("\(esc)36malt0\(esc)0m  \(esc)36mTXD0\(esc)0m"))
        #expect(text.contains("\(esc)1;32m1\(esc)0m"))
        #expect(text.contains("\(esc)33mout\(esc)0m"))
        #expect(text.contains("\(esc)35mled \"a\"\(esc)0m"))
        // Without the escape sequences it is the plain table.
        var stripped = ""
        var inEscape = false
        for c in text {
            if c == "\u{1B}" { inEscape = true } else if inEscape { if c == "m" { inEscape = false } } else { stripped.append(c) }
        }
        #expect(stripped == table.text(colour: false))
    }

    @Test func json() {
        #expect(
            table.json() == """
                {"board": "acme-one", "name": "ACME One", "header": "P1", "pins": [
                  {"physical": 1, "name": "3V3", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 2, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 3, "name": "GPIO14", "gpio": 14, "mode": "alt0", "function": "TXD0", "level": 1, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 4, "name": "GPIO17", "gpio": 17, "mode": "out", "function": "output", "level": 0, "pull": null, "consumer": "led \\"a\\"", "problem": null},
                  {"physical": 5, "name": "GPIO40", "gpio": 40, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": "(gpio1 not granted)"}
                ]}

                """)
    }
}
