import IOGateCore
import Testing

/// Raspberry Pi 4 (58 pins), Pi 1-3 (54 pins) and AM335x (banks of 32) layouts.
private let bcm2711 = GPIOLayout(model: .bcm2711, pins: 58)!
private let bcm2835 = GPIOLayout(model: .bcm2835, pins: 54)!
private let omap = GPIOLayout(model: .omap, pins: 32)!

/// (layout, offset, mask, pins, kind) for `affectedPins` and `effects`.
private let affectCases: [(GPIOLayout, UInt64, UInt64, [Int], GPIORegisterKind)] = [
    // GPFSEL1 bits 21..23: pin 17's function.
    (bcm2711, 0x04, 0b111 << 21, [17], .function),
    // Bits 2..3 of GPFSEL0 straddle two fields: pin 0 (bit 2) and pin 1 (bit 3).
    (bcm2711, 0x00, 0b1100, [0, 1], .function),
    // GPFSEL5 covers 50..57; bits 24..31 are unused on a 58-pin block.
    (bcm2711, 0x14, 0xFFFF_FFFF, Array(50...57), .function),
    (bcm2711, 0x1C, 1 << 17 | 1 << 4, [4, 17], .outputSet),
    (bcm2711, 0x2C, 0xFFFF_FFFF, Array(32...57), .outputClear),
    // A byte access at GPSET0 + 2: its bit 1 is GPSET0 bit 17.
    (bcm2711, 0x1E, 0x02, [17], .outputSet),
    (bcm2711, 0xE4, 0b11 << 6, [3], .pull),
    (bcm2835, 0x98, 1 << 31, [31], .pullClock),
    (omap, 0x194, 1 << 21 | 1, [0, 21], .outputSet),
    (omap, 0x134, 0x8000_0000, [31], .function),
    (omap, 0x13C, 0xFF, Array(0...7), .outputLatch),
]

@Suite("GPIOLayout")
struct GPIOLayoutTests {
    @Test(arguments: GPIOModelKind.allCases)
    func supportedModels(model: GPIOModelKind) {
        let supported: Set<GPIOModelKind> = [.bcm2835, .bcm2711, .rp1, .omap]
        #expect((GPIOLayout(model: model, pins: 32) != nil) == supported.contains(model))
    }

    @Test(arguments: [
        (GPIOModelKind.bcm2835, 54, true), (.bcm2835, 55, false), (.bcm2711, 58, true), (.bcm2711, 59, false),
        (.omap, 32, true), (.omap, 33, false), (.omap, 0, false), (.bcm2711, -1, false),
    ])
    func pinCounts(model: GPIOModelKind, pins: Int, valid: Bool) {
        #expect((GPIOLayout(model: model, pins: pins) != nil) == valid)
    }

    @Test func fromBoardWindow() throws {
        let gpio = BoardWindow(
            name: "gpio", range: try PhysicalRange(base: 0xFE20_0000, length: 0x100), model: .bcm2711, pins: 58, source: "test")
        let uart = BoardWindow(name: "uart0", range: try PhysicalRange(base: 0xFE20_1000, length: 0x200), source: "test")
        #expect(GPIOLayout(window: gpio) == bcm2711)
        #expect(GPIOLayout(window: uart) == nil)
        #expect(bcm2711.registerSpan == 0xF4)  // GPIO_PUP_PDN_CNTRL_REG3 ends at 0xF4: inside the rpi4 window
        #expect(bcm2835.registerSpan == 0xA0)  // GPPUDCLK1 ends at 0xA0: inside the 0xB4 DT reg
        #expect(omap.registerSpan == 0x198)
    }

    // MARK: Function select

    @Test(arguments: [
        (0, 0x00 as UInt64, 0), (9, 0x00, 27), (10, 0x04, 0), (17, 0x04, 21), (53, 0x14, 9), (57, 0x14, 21),
    ])
    func bcmFunctionField(pin: Int, offset: UInt64, shift: Int) throws {
        let field = try bcm2711.functionField(pin: pin)
        #expect(field == RegisterField(offset: offset, shift: shift, width: 3))
        #expect(field.mask == 0b111 << UInt64(shift))
    }

    @Test(arguments: [0, 5, 31])
    func omapFunctionField(pin: Int) throws {
        #expect(try omap.functionField(pin: pin) == RegisterField(offset: 0x134, shift: pin, width: 1))
    }

    @Test func fieldInsertAndExtract() {
        let field = RegisterField(offset: 0x04, shift: 21, width: 3)
        let reg = field.insert(0b001, into: 0xFFFF_FFFF)
        #expect(reg == 0xFF3F_FFFF)
        #expect(field.extract(from: reg) == 0b001)
        #expect(field.description == "0x4[21..<24]")
    }

    // MARK: Output and level bits

    @Test(arguments: [
        (0, 0x1C as UInt64, 0x28 as UInt64, 0x34 as UInt64, 0), (31, 0x1C, 0x28, 0x34, 31),
        (32, 0x20, 0x2C, 0x38, 0), (53, 0x20, 0x2C, 0x38, 21),
    ])
    func bcmBankBits(pin: Int, set: UInt64, clear: UInt64, level: UInt64, bit: Int) throws {
        for layout in [bcm2835, bcm2711] {
            #expect(try layout.setBit(pin: pin) == RegisterBit(offset: set, bit: bit))
            #expect(try layout.clearBit(pin: pin) == RegisterBit(offset: clear, bit: bit))
            #expect(try layout.levelBit(pin: pin) == RegisterBit(offset: level, bit: bit))
            #expect(try layout.outputLatchBit(pin: pin) == nil)
        }
        #expect(try bcm2711.setBit(pin: pin).mask == 1 << UInt64(bit))
    }

    @Test(arguments: [0, 17, 31])
    func omapBits(pin: Int) throws {
        #expect(try omap.setBit(pin: pin) == RegisterBit(offset: 0x194, bit: pin))
        #expect(try omap.clearBit(pin: pin) == RegisterBit(offset: 0x190, bit: pin))
        #expect(try omap.levelBit(pin: pin) == RegisterBit(offset: 0x138, bit: pin))
        #expect(try omap.outputLatchBit(pin: pin) == RegisterBit(offset: 0x13C, bit: pin))
        #expect(try omap.pullField(pin: pin) == nil)
    }

    @Test(arguments: [(0, 0xE4 as UInt64, 0), (15, 0xE4, 30), (16, 0xE8, 0), (57, 0xF0, 18)])
    func bcm2711PullField(pin: Int, offset: UInt64, shift: Int) throws {
        #expect(try bcm2711.pullField(pin: pin) == RegisterField(offset: offset, shift: shift, width: 2))
        #expect(try bcm2835.pullField(pin: min(pin, 53)) == nil)
    }

    // MARK: Out-of-range pins

    @Test(arguments: [(bcm2711, 58), (bcm2711, 60), (bcm2711, -1), (bcm2835, 54), (omap, 32)] as [(GPIOLayout, Int)])
    func outOfRangePins(layout: GPIOLayout, pin: Int) {
        let expected = IOGateError(
            .notFound, "pin \(pin) does not exist on this \(layout.model.rawValue) block; pins 0...\(layout.pins - 1)")
        #expect(throws: expected) { try layout.functionField(pin: pin) }
        #expect(throws: expected) { try layout.setBit(pin: pin) }
        #expect(throws: expected) { try layout.clearBit(pin: pin) }
        #expect(throws: expected) { try layout.levelBit(pin: pin) }
        #expect(throws: expected) { try layout.outputLatchBit(pin: pin) }
        #expect(throws: expected) { try layout.pullField(pin: pin) }
    }

    @Test func outOfRangeMessage() {
        #expect(throws: IOGateError(.notFound, "pin 60 does not exist on this bcm2711 block; pins 0...57")) {
            try bcm2711.setBit(pin: 60)
        }
    }

    // MARK: Functions

    @Test(arguments: [
        ("in", PinFunction.input, 0b000 as UInt64), ("out", .output, 0b001), ("alt0", .alt(0), 0b100),
        ("alt1", .alt(1), 0b101), ("alt2", .alt(2), 0b110), ("alt3", .alt(3), 0b111), ("alt4", .alt(4), 0b011),
        ("alt5", .alt(5), 0b010),
    ])
    func bcmFunctionCodes(name: String, function: PinFunction, code: UInt64) throws {
        #expect(PinFunction(name) == function)
        #expect(function.description == name)
        for layout in [bcm2835, bcm2711] {
            #expect(try layout.encode(function) == code)
            #expect(layout.decode(fieldValue: code) == function)
            #expect(layout.decode(fieldValue: code | 0b1000) == function)  // bits above the field are ignored
        }
    }

    @Test(arguments: ["", "input", "IN", "alt9", "alt", "alt-1", "alt00", "out ", "None"])
    func unparsableFunctions(text: String) {
        #expect(PinFunction(text) == nil)
    }

    @Test func omapFunctionCodes() throws {
        #expect(try omap.encode(.input) == 1)
        #expect(try omap.encode(.output) == 0)
        #expect(omap.decode(fieldValue: 1) == .input)
        #expect(omap.decode(fieldValue: 0) == .output)
        #expect(omap.functions == [.input, .output])
        #expect(bcm2711.functions.map(\.description) == ["in", "out", "alt0", "alt1", "alt2", "alt3", "alt4", "alt5"])
    }

    @Test(arguments: [(omap, .alt(0)), (omap, .alt(5)), (bcm2711, .alt(6)), (bcm2835, .alt(-1))] as [(GPIOLayout, PinFunction)])
    func unsupportedFunctions(layout: GPIOLayout, function: PinFunction) {
        let allowed = layout.model == .omap ? "in, out" : "in, out, alt0, alt1, alt2, alt3, alt4, alt5"
        #expect(
            throws: IOGateError(
                .notFound, "function \(function) does not exist on a \(layout.model.rawValue) GPIO block; allowed: \(allowed)")
        ) {
            try layout.encode(function)
        }
    }

    // MARK: Pulls

    @Test(arguments: [
        (bcm2711, PinPull.none, 0 as UInt64), (bcm2711, .up, 1), (bcm2711, .down, 2),
        (bcm2835, .none, 0), (bcm2835, .down, 1), (bcm2835, .up, 2),
    ])
    func pullCodes(layout: GPIOLayout, pull: PinPull, code: UInt64) throws {
        #expect(try layout.encodePull(pull) == code)
        #expect(layout.decodePull(fieldValue: code) == pull)
    }

    @Test func pullEdgeCases() {
        #expect(bcm2711.decodePull(fieldValue: 3) == nil)
        #expect(omap.decodePull(fieldValue: 0) == nil)
        #expect(throws: IOGateError.self) { try omap.encodePull(.up) }
    }

    // MARK: Register map and affected pins

    @Test(arguments: [
        (bcm2711, 0x00 as UInt64, GPIORegisterKind.function, 0, 10), (bcm2711, 0x14, .function, 50, 8),
        (bcm2711, 0x20, .outputSet, 32, 26), (bcm2711, 0x38, .level, 32, 26), (bcm2711, 0xF0, .pull, 48, 10),
        (bcm2835, 0x14, .function, 50, 4), (bcm2835, 0x94, .pullControl, 0, 0), (bcm2835, 0x9C, .pullClock, 32, 22),
        (omap, 0x134, .function, 0, 32), (omap, 0x13C, .outputLatch, 0, 32),
    ])
    func registerMap(layout: GPIOLayout, offset: UInt64, kind: GPIORegisterKind, firstPin: Int, pinCount: Int) {
        let reg = layout.register(at: offset)
        #expect(reg?.kind == kind)
        #expect(reg?.firstPin == firstPin)
        #expect(reg?.pinCount == pinCount)
    }

    @Test(arguments: [(bcm2711, 0x18), (bcm2711, 0x94), (bcm2835, 0xE4), (omap, 0x0), (omap, 0x1C)] as [(GPIOLayout, UInt64)])
    func unmodelledOffsets(layout: GPIOLayout, offset: UInt64) {
        #expect(layout.register(at: offset) == nil)
        #expect(layout.affectedPins(offset: offset, mask: 0xFFFF_FFFF) == [])
    }

    @Test func unalignedOffsetIsNoRegister() {
        #expect(bcm2711.register(at: 0x1D) == nil)
        // Bytes 0x1D...0x20 are the top three bytes of GPSET0 and the low byte of GPSET1.
        #expect(bcm2711.affectedPins(offset: 0x1D, mask: 0xFFFF_FFFF) == Array(8...39))
    }

    @Test(arguments: affectCases)
    func affectedPins(layout: GPIOLayout, offset: UInt64, mask: UInt64, pins: [Int], kind: GPIORegisterKind) {
        #expect(layout.affectedPins(offset: offset, mask: mask) == pins)
        #expect(layout.effects(offset: offset, mask: mask) == [PinEffect(kind: kind, pins: pins)])
    }

    @Test func affectedPinsAcrossTwoRegisters() {
        // A 64-bit access at 0x20 covers GPSET1 (0x20) and the reserved word at 0x24.
        #expect(bcm2711.affectedPins(offset: 0x20, mask: .max) == Array(32...57))
        // A 64-bit access at 0x28 covers GPCLR0 and GPCLR1.
        #expect(bcm2711.effects(offset: 0x28, mask: 1 << 5 | 1 << 33) == [PinEffect(kind: .outputClear, pins: [5, 33])])
        // At 0x30: 0x30 is reserved and 0x34 is GPLEV0, read-only, so a write changes nothing.
        #expect(bcm2711.effects(offset: 0x30, mask: .max) == [PinEffect(kind: .level, pins: Array(0...31))])
        #expect(bcm2711.affectedPins(offset: 0x30, mask: .max) == [])
        // OMAP DATAIN + DATAOUT in one 64-bit access: only DATAOUT's pins can change.
        #expect(omap.affectedPins(offset: 0x138, mask: 1 << 3 | 1 << 36) == [4])
        #expect(bcm2835.effects(offset: 0x94, mask: 0b11) == [PinEffect(kind: .pullControl, pins: [])])
    }

    @Test func kinds() {
        #expect(GPIORegisterKind.level.isReadOnly)
        #expect(GPIORegisterKind.allCases.filter(\.changesOutput) == [.outputSet, .outputClear, .outputLatch, .outputEnable])
    }
}

@Suite struct GPIORegisterNameTests {
    @Test(arguments: [
        (GPIOModelKind.bcm2711, 58, 0x04 as UInt64, "GPFSEL1"), (.bcm2711, 58, 0x1C, "GPSET0"), (.bcm2711, 58, 0x2C, "GPCLR1"),
        (.bcm2711, 58, 0x34, "GPLEV0"), (.bcm2711, 58, 0xE8, "GPIO_PUP_PDN_CNTRL_REG1"), (.bcm2835, 54, 0x94, "GPPUD"),
        (.bcm2835, 54, 0x9C, "GPPUDCLK1"), (.omap, 32, 0x194, "SETDATAOUT"), (.omap, 32, 0x134, "OE"),
        (.rp1, 54, 0x8C, "IO_BANK0.GPIO17_CTRL"), (.rp1, 54, 0x1_2000, "SYS_RIO0.OUT.SET"), (.rp1, 54, 0x1_7004, "SYS_RIO1.OE.CLR"),
        (.rp1, 54, 0x1_8008, "SYS_RIO2.IN"), (.rp1, 54, 0x2_801C, "PADS_BANK2.GPIO6"), (.rp1, 54, 0x5014, "IO_BANK1.GPIO2_CTRL.XOR"),
    ])
    func names(model: GPIOModelKind, pins: Int, offset: UInt64, name: String) throws {
        #expect(try #require(GPIOLayout(model: model, pins: pins)).registerName(at: offset) == name)
    }

    @Test func unmodelledOffsetsHaveNoName() throws {
        #expect(GPIOLayout(model: .bcm2711, pins: 58)!.registerName(at: 0x40) == nil)
        #expect(GPIOLayout(model: .rp1, pins: 54)!.registerName(at: 0x0) == nil)
    }
}
