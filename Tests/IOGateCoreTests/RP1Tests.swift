import Foundation
import IOGateCore
import IOGateMock
import Testing

/// The RP1 (Raspberry Pi 5) layout, its mock, and its pigpio map. Expected offsets are worked out
/// by hand from drivers/pinctrl/pinctrl-rp1.c (`rp1_iobanks`, `rp1_gpio_fields`, `rp1_rio_fields`,
/// `rp1_pad_fields`) and the three `reg` entries of rp1-common.dtsi's pinctrl@400d0000.
private let rp1 = GPIOLayout(model: .rp1, pins: 54)!

/// The real rpi5 board file: gpio at 0x1f000d0000, rio 0x1f000e0000, pads 0x1f000f0000.
private func rpi5() throws -> Board {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../boards/rpi5.toml")
    return try Board.parse(text: String(contentsOf: url, encoding: .utf8), file: "rpi5.toml")
}

private let gpio: UInt64 = 0x1F_000D_0000
private let rio: UInt64 = 0x1F_000E_0000
private let pads: UInt64 = 0x1F_000F_0000

@Suite("RP1 layout")
struct RP1LayoutTests {
    @Test(arguments: [
        // (pin, CTRL, pad, RIO bank offset, line)
        (0, 0x0004 as UInt64, 0x2_0004 as UInt64, 0x0000 as UInt64, 0),
        (17, 0x008C, 0x2_0048, 0x0000, 17),
        (27, 0x00DC, 0x2_0070, 0x0000, 27),
        (28, 0x4004, 0x2_4004, 0x4000, 0),
        (33, 0x402C, 0x2_4018, 0x4000, 5),
        (34, 0x8004, 0x2_8004, 0x8000, 0),
        (53, 0x809C, 0x2_8050, 0x8000, 19),
    ])
    func perPinRegisters(pin: Int, ctrl: UInt64, pad: UInt64, bank: UInt64, line: Int) throws {
        #expect(try rp1.functionField(pin: pin) == RegisterField(offset: ctrl, shift: 0, width: 5))
        #expect(try rp1.pullField(pin: pin) == RegisterField(offset: pad, shift: 2, width: 2))
        #expect(try rp1.setBit(pin: pin) == RegisterBit(offset: 0x1_0000 + bank + 0x2000, bit: line))
        #expect(try rp1.clearBit(pin: pin) == RegisterBit(offset: 0x1_0000 + bank + 0x3000, bit: line))
        #expect(try rp1.levelBit(pin: pin) == RegisterBit(offset: 0x1_0000 + bank + 0x8, bit: line))
        #expect(try rp1.outputLatchBit(pin: pin) == RegisterBit(offset: 0x1_0000 + bank, bit: line))
        #expect(rp1.register(at: ctrl)?.kind == .function)
        #expect(rp1.register(at: ctrl + 0x2000)?.alias == .set)
        #expect(rp1.register(at: pad)?.kind == .pad)
    }

    @Test func pinsAndSpan() {
        #expect(GPIOLayout.maximumPins(for: .rp1) == 54)
        #expect(GPIOLayout(model: .rp1, pins: 55) == nil)
        // The last modelled register is pin 53's pad clear alias: 0x20000 + 0x8000 + 0x3000 + 4 + 4*19.
        #expect(rp1.registerSpan == 0x2_B054)
        #expect(rp1.register(at: 0x0) == nil)  // GPIO0_STATUS: not modelled
        #expect(rp1.register(at: 0x2_0000) == nil)  // bank 0 VOLTAGE_SELECT: not modelled
        // A 28-pin block stops after bank 0.
        let short = GPIOLayout(model: .rp1, pins: 28)!
        #expect(short.register(at: 0x4004) == nil)
        #expect(short.register(at: 0x1_0000)?.pins == 0..<28)
    }

    @Test func functionsAndCodes() throws {
        #expect(rp1.functions.map(\.description) == ["in", "out", "alt0", "alt1", "alt2", "alt3", "alt4", "alt6", "alt7", "alt8", "none"])
        #expect(try rp1.encode(.alt(8)) == 8)
        #expect(try rp1.encode(.none) == 0x1F)
        #expect(
            throws: IOGateError(
                .notFound,
                "function alt5 does not exist on a rp1 GPIO block (RP1's a5 is the GPIO function: use in or out); allowed: in, out, alt0, alt1, alt2, alt3, alt4, alt6, alt7, alt8, none"
            )
        ) { try rp1.encode(.alt(5)) }
        #expect(throws: IOGateError.self) { try GPIOLayout(model: .bcm2711, pins: 58)!.encode(.none) }
        #expect(PinFunction("none") == PinFunction.none)
        #expect(PinFunction("alt8") == .alt(8))
    }

    @Test func outputStepsSetOEBeforeFuncsel() throws {
        // GPIO17: OE set alias 0x12004 bit 17; pad IE=1, OD=0; CTRL FUNCSEL=5, OUTOVER=OEOVER=0.
        #expect(
            try rp1.steps(selecting: .output, pin: 17) == [
                .write(offset: 0x1_2004, value: 1 << 17),
                .modify(offset: 0x2_0048, mask: 0xC0, value: 0x40),
                .modify(offset: 0x8C, mask: 0xF01F, value: 5),
            ])
        #expect(
            try rp1.steps(selecting: .input, pin: 30) == [
                .write(offset: 0x1_7004, value: 1 << 2),
                .modify(offset: 0x2_400C, mask: 0xC0, value: 0x40),
                .modify(offset: 0x4014, mask: 0xF01F, value: 5),
            ])
        #expect(
            try rp1.steps(selecting: .alt(3), pin: 0) == [
                .modify(offset: 0x2_0004, mask: 0xC0, value: 0x40), .modify(offset: 0x4, mask: 0xF01F, value: 3),
            ])
        #expect(try rp1.steps(selecting: PinPull.up, pin: 17) == [.modify(offset: 0x2_0048, mask: 0b1100, value: 0b1000)])
        #expect(try rp1.steps(selecting: PinPull.down, pin: 17) == [.modify(offset: 0x2_0048, mask: 0b1100, value: 0b0100)])
        #expect(throws: IOGateError(.notFound, "pin 54 does not exist on this rp1 block; pins 0...53")) {
            try rp1.steps(selecting: .output, pin: 54)
        }
        #expect(try rp1.controlOffsets(pin: 17) == [0x8C, 0x1_2000, 0x1_2004, 0x1_3000, 0x1_3004, 0x2_0048])
    }

    @Test(arguments: [
        // (CTRL, OE bits, function), as rp1_get_fsel and rp1_get_dir read them.
        (0x05 as UInt64, 1 << 17 as UInt64, PinFunction.output),
        (0x05, 0, .input),
        (0x05 | 2 << 14, 1 << 17, .none),  // OEOVER = disable: no valid function
        (0x1F, 0, .none),
        (0x09, 0, .none),  // RP1_FSEL_NONE: past a8
        (0x08, 0, .alt(8)),
        (0x00 | 3 << 12, 0, .alt(0)),  // OUTOVER does not affect the function
    ])
    func functionDecoding(ctrl: UInt64, oe: UInt64, function: PinFunction) {
        let registers: [UInt64: UInt64] = [0x8C: ctrl, 0x1_0004: oe]
        #expect(rp1.function(pin: 17) { registers[$0] ?? 0 } == function)
    }

    @Test func writesThroughAliasesChangeTheirPins() {
        // OUT set alias: pins of the 1 bits only.
        #expect(rp1.pinsChanged(offset: 0x1_2000, width: .word, mask: 0xFFFF_FFFF, value: 1 << 17 | 1 << 4) == [4, 17])
        // OE clear alias of bank 1: bit 2 is pin 30.
        #expect(rp1.pinsChanged(offset: 0x1_7004, width: .word, mask: 0xFFFF_FFFF, value: 1 << 2) == [30])
        // CTRL of pin 17 through its XOR alias, any bit: pin 17 (FUNCSEL, OUTOVER, IRQ bits are all the pin's).
        #expect(rp1.pinsChanged(offset: 0x108C, width: .word, mask: 0xFFFF_FFFF, value: 1 << 13) == [17])
        #expect(rp1.pinsChanged(offset: 0x108C, width: .word, mask: 0xFFFF_FFFF, value: 0) == [])
        // A plain write to CTRL or a pad changes its pin whatever the value.
        #expect(rp1.pinsChanged(offset: 0x8C, width: .word, mask: 0xFFFF_FFFF, value: 0) == [17])
        #expect(rp1.pinsChanged(offset: 0x2_0048, width: .byte, mask: 0xFF, value: 0) == [17])
        // IN and its aliases are read-only.
        #expect(rp1.pinsChanged(offset: 0x1_2008, width: .word, mask: 0xFFFF_FFFF, value: 0xFFFF_FFFF) == [])
        #expect(
            rp1.effects(offset: 0x1_0000, mask: 1 << 3 | 1 << 33) == [
                PinEffect(kind: .outputLatch, pins: [3]), PinEffect(kind: .outputEnable, pins: [1]),
            ])
    }
}

@Suite("RP1 mock")
struct RP1MockTests {
    @Test func resetState() throws {
        let b = MockBoard(board: try rpi5())
        #expect(b.simulatedGPIOWindows == ["gpio"])
        #expect(b.load(gpio + 0x8C, .word) == 0x1F)
        #expect(b.load(pads + 0x48, .word) == 0x56)
        #expect(try b.function(window: "gpio", pin: 17) == PinFunction.none)
        #expect(try b.pull(window: "gpio", pin: 17) == .down)
        #expect(try b.level(window: "gpio", pin: 17) == false)
        #expect(b.load(rio + 0x8, .word) == 0)
    }

    @Test func outputThroughAliases() throws {
        let b = MockBoard(board: try rpi5())
        b.store(rio + 0x2000, .word, 1 << 17)  // OUT set: latch high while the pin is not yet an output
        #expect(b.load(rio + 0x8, .word) == 0)
        b.store(rio + 0x2004, .word, 1 << 17)  // OE set
        b.store(gpio + 0x8C, .word, 5)  // FUNCSEL = RIO
        #expect(try b.function(window: "gpio", pin: 17) == .output)
        #expect(b.load(rio + 0x8, .word) == 1 << 17)
        #expect(b.load(rio + 0x0, .word) == 1 << 17)
        #expect(b.load(rio + 0x4, .word) == 1 << 17)
        #expect(b.load(rio + 0x2004, .word) == 1 << 17)  // an alias reads its register
        b.store(rio + 0x1000, .word, 1 << 17 | 1 << 3)  // XOR: 17 low, 3 high (3 is no output: level stays)
        #expect(b.load(rio + 0x0, .word) == 1 << 3)
        #expect(b.load(rio + 0x8, .word) == 0)
        b.store(rio + 0x2000, .word, 1 << 17)
        b.store(rio + 0x3000, .word, 1 << 3)  // clear: 3 low, 17 untouched
        #expect(try b.outputLatch(window: "gpio") == 1 << 17)
        b.store(rio + 0x3004, .word, 1 << 17)  // OE clear: an input again, pulled down
        #expect(try b.function(window: "gpio", pin: 17) == .input)
        #expect(b.load(rio + 0x8, .word) == 0)
        b.store(rio + 0x8, .word, 0xFFFF_FFFF)  // IN is read-only
        b.store(rio + 0x2008, .word, 0xFFFF_FFFF)
        #expect(b.load(rio + 0x8, .word) == 0)
    }

    @Test func bankTwoAndPulls() throws {
        let b = MockBoard(board: try rpi5())
        // GPIO40 = bank 2 line 6: pad at pads + 0x8004 + 24, RIO at rio + 0x8000.
        b.store(pads + 0x8004 + 24, .word, 0x4A)  // IE, pull-up (PULL = 2), Schmitt
        #expect(try b.pull(window: "gpio", pin: 40) == .up)
        #expect(b.load(rio + 0x8008, .word) == 1 << 6)
        b.store(pads + 0x8004 + 24 + 0x3000, .word, 0b1000)  // pad clear alias: pull off
        #expect(b.load(pads + 0x8004 + 24, .word) == 0x42)
        #expect(try b.pull(window: "gpio", pin: 40) == PinPull.none)
        try b.setInputLevel(window: "gpio", pin: 40, high: true)
        #expect(b.load(rio + 0x8008, .word) == 1 << 6)
        #expect(b.load(rio + 0x0008, .word) == 0)  // bank 0 untouched
    }

    @Test func narrowStoreToAnAliasActsOnItsBytes() throws {
        let b = MockBoard(board: try rpi5())
        b.store(rio + 0x2004 + 2, .byte, 0x02)  // OE set, byte 2 bit 1 = pin 17
        #expect(b.load(rio + 0x4, .word) == 1 << 17)
    }
}

@Suite("RP1 pigpio map")
struct RP1PigpioMapTests {
    @Test func addresses() throws {
        let map = try #require(PigpioPinMap(board: try rpi5()))
        #expect(map.pinCount == 54)
        #expect(map.bit(.outputSet, 17)! == (rio + 0x2000, 1 << 17))
        #expect(map.bit(.outputClear, 30)! == (rio + 0x7000, 1 << 2))
        #expect(map.bit(.level, 40)! == (rio + 0x8008, 1 << 6))
        #expect(map.pullField(17)?.address == pads + 0x48)
        #expect(map.controlRegisters(17) == [gpio + 0x8C, rio + 0x2000, rio + 0x2004, rio + 0x3000, rio + 0x3004, pads + 0x48])
        // pigpio bank 0 spans RP1 banks 0 (pins 0-27) and 1 (28-31).
        let levels = map.bankLevels(bank: 0)
        #expect(Set(levels.map(\.address)) == [rio + 0x8, rio + 0x4008])
        #expect(PigpioPinMap.bankWord(levels, registers: [rio + 0x8: 1 << 17, rio + 0x4008: 1 << 3]) == 1 << 17 | 1 << 31)
        guard case .success(let w) = map.bankWrites(.outputSet, bank: 0, bits: 1 << 17 | 1 << 29) else {
            Issue.record("refused")
            return
        }
        #expect(w.map(\.address) == [rio + 0x2000, rio + 0x6000])
        #expect(w.map(\.mask) == [1 << 17, 1 << 1])
    }

    @Test func modesOfRP1Functions() {
        #expect(PigpioMode.mode(.none) == 0)
        #expect(PigpioMode.mode(.alt(7)) == 2)
    }
}
