import Dispatch
import Foundation
import IOGateCore
import IOGateMock
import Synchronization
import Testing

/// A Raspberry Pi 4 cut down to what the tests need, with the real addresses (bcm2711.dtsi).
private let rpi4Text = """
    id = "rpi4-test"
    name = "Raspberry Pi 4 (test)"
    soc = "BCM2711"
    compatible = ["raspberrypi,4-model-b", "brcm,bcm2711"]

    [[window]]
    name = "gpio"
    base = 0xFE200000
    length = 0x100
    model = "bcm2711"
    pins = 58
    source = "bcm283x.dtsi gpio@7e200000, via bcm2711.dtsi soc ranges"

    [[window]]
    name = "uart0"
    base = 0xFE201000
    length = 0x200
    source = "bcm283x.dtsi serial@7e201000"

    [[window]]
    name = "pio"
    base = 0x1C20800
    length = 0x400
    model = "sunxi"
    pins = 32
    source = "a block of a model the mock does not simulate: plain memory"
    """

private func rpi4() throws -> MockBoard { MockBoard(board: try Board.parse(text: rpi4Text, file: "rpi4-test.toml")) }

/// BeagleBone Black's gpio1 bank (am33xx-l4.dtsi) and a Pi 3's BCM2835-model block.
private let mixedText = """
    id = "mixed-test"
    name = "AM335x gpio1 and a BCM2837 block (test)"
    soc = "test"
    compatible = ["test"]

    [[window]]
    name = "gpio1"
    base = 0x4804C000
    length = 0x1000
    model = "omap"
    pins = 32
    source = "am33xx-l4.dtsi gpio@0 in target-module@4c000"

    [[window]]
    name = "gpio"
    base = 0x3F200000
    length = 0xB4
    model = "bcm2835"
    pins = 54
    source = "bcm283x.dtsi gpio@7e200000, via bcm2837.dtsi soc ranges"
    """

private func otherBoards() throws -> MockBoard { MockBoard(board: try Board.parse(text: mixedText, file: "mixed-test.toml")) }

private let gpio: UInt64 = 0xFE20_0000
private let GPFSEL0 = gpio + 0x00
private let GPFSEL1 = gpio + 0x04
private let GPSET0 = gpio + 0x1C
private let GPSET1 = gpio + 0x20
private let GPCLR0 = gpio + 0x28
private let GPCLR1 = gpio + 0x2C
private let GPLEV0 = gpio + 0x34
private let GPLEV1 = gpio + 0x38
private let PUP_PDN0 = gpio + 0xE4

private let gpio1: UInt64 = 0x4804_C000
private let OE = gpio1 + 0x134
private let DATAIN = gpio1 + 0x138
private let DATAOUT = gpio1 + 0x13C
private let CLEARDATAOUT = gpio1 + 0x190
private let SETDATAOUT = gpio1 + 0x194

@Suite("MockBoard")
struct MockBoardTests {
    // MARK: BCM2711

    @Test func gpio17SetClearLevel() throws {
        let b = try rpi4()
        b.store(GPFSEL1, .word, 0b001 << 21)  // GPIO17 = output
        #expect(b.load(GPFSEL1, .word) == 0b001 << 21)
        #expect(try b.function(window: "gpio", pin: 17) == .output)
        #expect(b.load(GPLEV0, .word) & (1 << 17) == 0)
        b.store(GPSET0, .word, 1 << 17)
        #expect(b.load(GPLEV0, .word) & (1 << 17) != 0)
        #expect(try b.outputLatch(window: "gpio") == 1 << 17)
        b.store(GPCLR0, .word, 1 << 17)
        #expect(b.load(GPLEV0, .word) & (1 << 17) == 0)
        #expect(try b.outputLatch(window: "gpio") == 0)
    }

    @Test(arguments: [GPSET0, GPSET1, GPCLR0, GPCLR1])
    func setAndClearReadZero(address: UInt64) throws {
        let b = try rpi4()
        b.store(GPSET0, .word, 0xFFFF_FFFF)
        b.store(address, .word, 0x0000_FFFF)
        #expect(b.load(address, .word) == 0)
    }

    @Test func levelWritesAreIgnored() throws {
        let b = try rpi4()
        b.store(GPFSEL0, .word, 0b001 << 12)  // GPIO4 = output, latch low
        b.store(GPLEV0, .word, 0xFFFF_FFFF)
        b.store(GPLEV1, .word, 0xFFFF_FFFF)
        #expect(b.load(GPLEV0, .word) == 0)
        #expect(b.load(GPLEV1, .word) == 0)
        #expect(try b.outputLatch(window: "gpio") == 0)
    }

    @Test func setAndClearTouchOnlyWrittenPins() throws {
        let b = try rpi4()
        b.store(GPSET0, .word, 1 << 4 | 1 << 17)
        b.store(GPSET1, .word, 1 << 8)  // GPIO40
        b.store(GPSET0, .word, 1 << 5)
        #expect(try b.outputLatch(window: "gpio") == 1 << 4 | 1 << 5 | 1 << 17 | 1 << 40)
        b.store(GPCLR0, .word, 1 << 4)
        #expect(try b.outputLatch(window: "gpio") == 1 << 5 | 1 << 17 | 1 << 40)
        b.store(GPCLR1, .word, 1 << 8)
        #expect(try b.outputLatch(window: "gpio") == 1 << 5 | 1 << 17)
        // Bits of GPSET1 beyond GPIO57 change nothing.
        b.store(GPSET1, .word, 0xFC00_0000)
        #expect(try b.outputLatch(window: "gpio") == 1 << 5 | 1 << 17)
    }

    @Test(arguments: [(4, true), (4, false), (40, true), (57, false)])
    func inputPinShowsSimulatedLevel(pin: Int, high: Bool) throws {
        let b = try rpi4()
        let level = pin < 32 ? GPLEV0 : GPLEV1
        let bit: UInt64 = 1 << UInt64(pin % 32)
        b.store(pin < 32 ? GPSET0 : GPSET1, .word, bit)  // the latch does not show on an input
        try b.setInputLevel(window: "gpio", pin: pin, high: high)
        #expect((b.load(level, .word) & bit != 0) == high)
        #expect(try b.level(window: "gpio", pin: pin) == high)
        // As an output the latch (high) wins; back as an input the outside level shows again.
        let fsel = gpio + UInt64(pin / 10) * 4
        b.store(fsel, .word, 0b001 << UInt64(pin % 10 * 3))
        #expect(b.load(level, .word) & bit != 0)
        b.store(fsel, .word, 0)
        #expect((b.load(level, .word) & bit != 0) == high)
    }

    @Test(arguments: [(PinPull.up, 0b01 as UInt64, true), (.down, 0b10, false), (.none, 0b00, false)])
    func pullsOfUndrivenInputs(pull: PinPull, code: UInt64, level: Bool) throws {
        let b = try rpi4()
        b.store(PUP_PDN0, .word, code << 6)  // GPIO3
        #expect(b.load(PUP_PDN0, .word) == code << 6)
        #expect(try b.pull(window: "gpio", pin: 3) == pull)
        #expect((b.load(GPLEV0, .word) & 1 << 3 != 0) == level)
        try b.setInputLevel(window: "gpio", pin: 3, high: !level)
        #expect((b.load(GPLEV0, .word) & 1 << 3 != 0) == !level)
        try b.releaseInputLevel(window: "gpio", pin: 3)
        #expect((b.load(GPLEV0, .word) & 1 << 3 != 0) == level)
    }

    @Test func altFunctionPinsReadLikeInputs() throws {
        let b = try rpi4()
        b.store(GPFSEL1, .word, 0b100 << 12)  // GPIO14 = alt0 (TXD0)
        b.store(GPSET0, .word, 1 << 14)
        #expect(try b.function(window: "gpio", pin: 14) == .alt(0))
        #expect(b.load(GPLEV0, .word) & 1 << 14 == 0)
        try b.setInputLevel(window: "gpio", pin: 14, high: true)
        #expect(b.load(GPLEV0, .word) & 1 << 14 != 0)
    }

    @Test func narrowAccessesActOnTheirBytesOnly() throws {
        let b = try rpi4()
        b.store(GPFSEL1, .word, 0x0924_9249)
        b.store(GPFSEL1 + 2, .byte, 0x20)  // bits 16..23: GPIO17 = output (bit 21), GPIO15/16 = in
        #expect(b.load(GPFSEL1, .word) == 0x0920_9249)
        #expect(b.load(GPFSEL1 + 2, .half) == 0x0920)
        b.store(GPSET0 + 2, .byte, 0x02)  // GPSET0 bit 17
        #expect(try b.outputLatch(window: "gpio") == 1 << 17)
        #expect(b.load(GPLEV0 + 2, .byte) == 0x02)
        #expect(b.load(GPLEV0 + 2, .half) == 0x0002)
        b.store(GPCLR0, .half, 0xFFFF)  // pins 0..15 only
        #expect(try b.outputLatch(window: "gpio") == 1 << 17)
        b.store(GPCLR0 + 2, .half, 0x0002)
        #expect(try b.outputLatch(window: "gpio") == 0)
    }

    @Test func doubleWordAccessesSpanTwoRegisters() throws {
        let b = try rpi4()
        b.store(GPFSEL0, .double, 0x0000_0001_0000_0000 | 0b001 << 12)  // GPIO4 and GPIO10 outputs
        #expect(b.load(GPFSEL0 + 4, .word) == 1)
        b.store(GPSET0 + 4, .double, 1 << 8)  // GPSET1 at 0x20: GPIO40
        b.store(GPCLR0 - 4, .double, 0)  // 0x24 is reserved; GPCLR0 gets 0: nothing cleared
        b.store(GPCLR0, .double, 0)
        #expect(try b.outputLatch(window: "gpio") == 1 << 40)
        b.store(GPSET0 - 4, .double, (1 << 4 | 1 << 10) << 32)  // 0x18 reserved, GPSET0 in the high half
        #expect(b.load(GPLEV0 - 4, .double) >> 32 == 1 << 4 | 1 << 10)
        b.store(GPCLR0, .double, 1 << 10 | (1 << 8) << 32)
        #expect(try b.outputLatch(window: "gpio") == 1 << 4)
    }

    @Test func unmodelledGPIOOffsetsArePlainMemory() throws {
        let b = try rpi4()
        b.store(gpio + 0x40, .word, 0xDEAD_BEEF)  // GPEDS0
        b.store(gpio + 0x18, .word, 0x1234_5678)  // reserved
        #expect(b.load(gpio + 0x40, .word) == 0xDEAD_BEEF)
        #expect(b.load(gpio + 0x18, .word) == 0x1234_5678)
        #expect(try b.outputLatch(window: "gpio") == 0)
    }

    // MARK: Plain memory

    @Test(arguments: AccessWidth.allCases)
    func plainMemoryStoresAndLoadsEveryWidth(width: AccessWidth) throws {
        let b = try rpi4()
        for address: UInt64 in [0xFE20_1000, 0xFE20_11F8, 0x01C2_0800, 0x01C2_0BF8, 0x7_0000_0000] {
            #expect(b.load(address, width) == 0)
            b.store(address, width, 0x8877_6655_4433_2211)
            #expect(b.load(address, width) == 0x8877_6655_4433_2211 & width.maxValue)
            #expect(b.load(address, .byte) == 0x11)  // little-endian
        }
    }

    @Test func plainMemoryIsLittleEndianAndSparse() throws {
        let b = try rpi4()
        b.store(0xFE20_1000, .double, 0x0807_0605_0403_0201)
        #expect(b.load(0xFE20_1000, .word) == 0x0403_0201)
        #expect(b.load(0xFE20_1004, .half) == 0x0605)
        #expect(b.load(0xFE20_1007, .byte) == 0x08)
        b.store(0xFE20_1002, .half, 0xBBAA)
        #expect(b.load(0xFE20_1000, .double) == 0x0807_0605_BBAA_0201)
        // A write that crosses a page boundary (callers check alignment; the mock does not need it).
        b.store(0x1_0000_0FFE, .word, 0xDDCC_BBAA)
        #expect(b.load(0x1_0000_1000, .half) == 0xDDCC)
        #expect(b.load(0x1_0000_0FFC, .double) == 0xDDCC_BBAA_0000)
    }

    // MARK: OMAP (AM335x gpio1)

    @Test func omapOutputs() throws {
        let b = try otherBoards()
        #expect(b.load(OE, .word) == 0xFFFF_FFFF)  // reset: every pin an input
        b.store(OE, .word, ~UInt64(1 << 21) & 0xFFFF_FFFF)  // GPIO1_21 (USR0 LED) output
        #expect(try b.function(window: "gpio1", pin: 21) == .output)
        #expect(try b.function(window: "gpio1", pin: 20) == .input)
        b.store(SETDATAOUT, .word, 1 << 21 | 1 << 3)
        #expect(b.load(DATAOUT, .word) == 1 << 21 | 1 << 3)
        #expect(b.load(SETDATAOUT, .word) == 1 << 21 | 1 << 3)  // reads back DATAOUT
        #expect(b.load(CLEARDATAOUT, .word) == 1 << 21 | 1 << 3)
        #expect(b.load(DATAIN, .word) == 1 << 21)  // pin 3 is an input: its latch does not show
        b.store(CLEARDATAOUT, .word, 1 << 21)
        #expect(b.load(DATAOUT, .word) == 1 << 3)
        #expect(b.load(DATAIN, .word) == 0)
        b.store(DATAOUT, .word, 1 << 21)
        #expect(try b.outputLatch(window: "gpio1") == 1 << 21)
        #expect(b.load(DATAIN, .word) == 1 << 21)
    }

    @Test func omapDataInIsReadOnlyAndShowsInputs() throws {
        let b = try otherBoards()
        b.store(DATAIN, .word, 0xFFFF_FFFF)
        #expect(b.load(DATAIN, .word) == 0)
        try b.setInputLevel(window: "gpio1", pin: 7, high: true)
        #expect(b.load(DATAIN, .word) == 1 << 7)
        b.store(OE, .word, 0xFFFF_FF7F)  // pin 7 output, latch low: the driver wins
        #expect(b.load(DATAIN, .word) == 0)
        #expect(b.load(gpio1 + 0x150, .word) == 0)  // DEBOUNCENABLE: plain memory
        b.store(gpio1 + 0x150, .word, 0x55)
        #expect(b.load(gpio1 + 0x150, .word) == 0x55)
    }

    // MARK: BCM2835 pulls through GPPUD / GPPUDCLK

    @Test func bcm2835PullLatchedByClock() throws {
        let b = try otherBoards()
        let base: UInt64 = 0x3F20_0000
        b.store(base + 0x94, .word, 2)  // GPPUD = pull-up
        b.store(base + 0x98, .word, 1 << 2)  // clock GPIO2
        b.store(base + 0x98, .word, 0)
        b.store(base + 0x94, .word, 0)
        #expect(try b.pull(window: "gpio", pin: 2) == .up)
        #expect(try b.pull(window: "gpio", pin: 3) == PinPull.none)
        #expect(b.load(base + 0x34, .word) == 1 << 2)
        #expect(b.load(base + 0x94, .word) == 0)  // reads back as written
    }

    // MARK: Errors

    @Test func errorsNameTheProblem() throws {
        let b = try rpi4()
        #expect(throws: IOGateError(.notFound, "board 'rpi4-test' has no window 'gpio9'; windows: gpio, uart0, pio")) {
            try b.setInputLevel(window: "gpio9", pin: 0, high: true)
        }
        #expect(throws: IOGateError(.notFound, "window 'uart0' is not a GPIO block; simulated GPIO windows: gpio")) {
            try b.outputLatch(window: "uart0")
        }
        #expect(
            throws: IOGateError(
                .notFound, "window 'pio' has model sunxi, which the mock simulates as plain memory; simulated GPIO windows: gpio")
        ) {
            try b.outputLatch(window: "pio")
        }
        #expect(throws: IOGateError(.notFound, "pin 58 does not exist on this bcm2711 block; pins 0...57")) {
            try b.setInputLevel(window: "gpio", pin: 58, high: true)
        }
        #expect(b.simulatedGPIOWindows == ["gpio"])
        #expect(try b.layout(window: "gpio").model == .bcm2711)
    }

    // MARK: Threads

    @Test func concurrentSetAndClearLoseNothing() throws {
        let b = try rpi4()
        b.store(GPFSEL0, .word, 0x0924_9249)  // GPIO0..9 outputs
        b.store(GPFSEL1, .word, 0x0924_9249)  // GPIO10..19 outputs
        let rounds = 5_000
        let lost = LostCounts()
        // Thread t owns pins t*10 ..< t*10+10. Each round it sets its pins one by one, checks that
        // all are high, clears them one by one and checks that all are low, so a lost update (the
        // other thread writing back a stale latch) shows up; the last pass leaves the even pins high.
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            var own: UInt64 = 0  // a loop, not reduce: Swift 6.0.3 cannot type-check that in reasonable time
            for pin in t * 10..<t * 10 + 10 { own |= 1 << UInt64(pin) }
            var misses = 0
            for _ in 0..<rounds {
                for pin in t * 10..<t * 10 + 10 { b.store(GPSET0, .word, 1 << UInt64(pin)) }
                if b.load(GPLEV0, .word) & own != own { misses += 1 }
                for pin in t * 10..<t * 10 + 10 { b.store(GPCLR0, .word, 1 << UInt64(pin)) }
                if b.load(GPLEV0, .word) & own != 0 { misses += 1 }
            }
            for pin in t * 10..<t * 10 + 10 {
                b.store(pin % 2 == 0 ? GPSET0 : GPCLR0, .word, 1 << UInt64(pin))
            }
            lost.add(misses)
        }
        #expect(lost.total == 0)
        var evens: UInt64 = 0
        for pin in 0..<20 where pin % 2 == 0 { evens |= 1 << UInt64(pin) }
        #expect(try b.outputLatch(window: "gpio") == evens)
        #expect(b.load(GPLEV0, .word) == evens)
    }
}

/// Sums the misses the test's threads report.
private final class LostCounts: Sendable {
    private let sum = Mutex(0)
    func add(_ n: Int) { sum.withLock { $0 += n } }
    var total: Int { sum.withLock { $0 } }
}
