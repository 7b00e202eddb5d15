import IOGateCore
import Testing

/// The register-bit to pin decisions of `GPIOLayout.pinsChanged`, which the kernel-line guard uses.
@Suite struct GuardPinMappingTests {
    static let bcm2711 = GPIOLayout(model: .bcm2711, pins: 58)!
    static let bcm2835 = GPIOLayout(model: .bcm2835, pins: 54)!
    static let omap = GPIOLayout(model: .omap, pins: 32)!

    struct Case: CustomTestStringConvertible, Sendable {
        var what: String
        var layout: GPIOLayout
        var offset: UInt64
        var width: AccessWidth = .word
        var mask: UInt64? = nil  // nil: a plain write (every bit of the width)
        var value: UInt64
        var current: UInt64? = nil
        var pins: [Int]
        var testDescription: String { what }
    }

    static let cases: [Case] = [
        Case(what: "GPSET0 bit 17 drives pin 17 only", layout: bcm2711, offset: 0x1C, value: 1 << 17, pins: [17]),
        Case(what: "GPSET0 written 0 changes nothing", layout: bcm2711, offset: 0x1C, value: 0, pins: []),
        Case(what: "GPCLR1 bit 0 is pin 32", layout: bcm2711, offset: 0x2C, value: 1, pins: [32]),
        Case(what: "GPCLR1 bit 31 is past pin 57: nothing", layout: bcm2711, offset: 0x2C, value: 1 << 31, pins: []),
        Case(what: "GPFSEL1 modify of GPIO17's field", layout: bcm2711, offset: 0x04, mask: 0b111 << 21, value: 0b001 << 21, pins: [17]),
        Case(what: "GPFSEL1 plain write covers pins 10..19", layout: bcm2711, offset: 0x04, value: 0, pins: Array(10...19)),
        Case(what: "GPLEV0 is read-only", layout: bcm2711, offset: 0x34, value: 0xFFFF_FFFF, pins: []),
        Case(what: "byte store at 0x1E bit 1 is GPSET0 bit 17", layout: bcm2711, offset: 0x1E, width: .byte, value: 0x02, pins: [17]),
        Case(
            what: "64-bit store spans GPSET0 and GPSET1", layout: bcm2711, offset: 0x1C, width: .double, value: (1 << 32) | (1 << 3),
            pins: [3, 32]),
        Case(what: "BCM2711 pull field of GPIO17", layout: bcm2711, offset: 0xE8, mask: 0b11 << 2, value: 0b01 << 2, pins: [17]),
        Case(what: "BCM2835 GPPUD covers no pin", layout: bcm2835, offset: 0x94, value: 2, pins: []),
        Case(what: "BCM2835 GPPUDCLK0 bit 4 applies the pull to pin 4", layout: bcm2835, offset: 0x98, value: 1 << 4, pins: [4]),
        Case(
            what: "modify of GPSET0 with an unknown old value may set every bit outside the mask",
            layout: bcm2711, offset: 0x1C, mask: 1 << 17, value: 1 << 17, pins: Array(0...31)),
        Case(
            what: "modify of GPSET0 that reads 0 (BCM) acts on the mask's ones only",
            layout: bcm2711, offset: 0x1C, mask: 1 << 17, value: 1 << 17, current: 0, pins: [17]),
        Case(
            what: "OMAP CLEARDATAOUT modify rewrites DATAOUT's high bits: they are cleared too",
            layout: omap, offset: 0x190, mask: 1 << 5, value: 1 << 5, current: 1 << 9, pins: [5, 9]),
        Case(what: "OMAP OE modify of one bit", layout: omap, offset: 0x134, mask: 1 << 7, value: 0, pins: [7]),
        Case(what: "OMAP DATAOUT plain write covers all 32 pins", layout: omap, offset: 0x13C, value: 0, pins: Array(0...31)),
        Case(what: "OMAP SETDATAOUT bits 0 and 31", layout: omap, offset: 0x194, value: 0x8000_0001, pins: [0, 31]),
        Case(what: "an unmodelled register changes no pin", layout: bcm2711, offset: 0x40, value: 0xFFFF_FFFF, pins: []),
    ]

    @Test(arguments: cases)
    func pinsChanged(_ c: Case) {
        let got = c.layout.pinsChanged(
            offset: c.offset, width: c.width, mask: c.mask ?? c.width.maxValue, value: c.value, current: c.current)
        #expect(got == c.pins)
    }
}
