/// The register model of one GPIO block: which register and bits control each pin.
///
/// Pure arithmetic, no I/O. Offsets are relative to the window base; every register is 32 bits.
/// The figures come from the Linux kernel sources (torvalds/linux):
/// - `bcm2835`, `bcm2711`: `drivers/pinctrl/bcm/pinctrl-bcm2835.c` (GPFSEL0 0x00 with 3 bits per pin
///   and 10 pins per register, GPSET0 0x1c, GPCLR0 0x28, GPLEV0 0x34, GPPUD 0x94, GPPUDCLK0 0x98 on
///   BCM2835, GPIO_PUP_PDN_CNTRL_REG0 0xe4 with 2 bits per pin and 16 pins per register on BCM2711;
///   the BCM2835_FSEL_* and BCM2711_PULL_* values).
/// - `omap` (OMAP4 / AM335x banks of 32 lines): `drivers/gpio/gpio-omap.c` and
///   `include/linux/platform_data/gpio-omap.h` (OMAP4_GPIO_OE 0x134 with 1 = input, DATAIN 0x138,
///   DATAOUT 0x13c, CLEARDATAOUT 0x190, SETDATAOUT 0x194).
/// - `rp1` (Raspberry Pi 5): `drivers/pinctrl/pinctrl-rp1.c`; see `Rp1` in GPIOLayout+RP1.swift.
///   Its layout also covers the RIO and pad registers that follow the GPIO window.
public struct GPIOLayout: Hashable, Sendable {
    /// The register model.
    public let model: GPIOModelKind
    /// Number of pins in the block; valid pins are `0..<pins`.
    public let pins: Int
    /// Every register the model knows, sorted by offset.
    public let registers: [GPIORegister]
    private let registerIndex: [UInt64: Int]

    /// Pins per FSEL register on BCM283x/BCM2711 (3 bits each; bits 30-31 unused).
    static let bcmPinsPerFunctionRegister = 10
    /// Pins per pull register on BCM2711 (2 bits each).
    static let bcm2711PinsPerPullRegister = 16

    /// The most pins each supported model can have: BCM2835_NUM_GPIOS 54 and BCM2711_NUM_GPIOS 58
    /// in pinctrl-bcm2835.c; an OMAP bank has 32 lines (one bit each in 32-bit registers);
    /// RP1_NUM_GPIOS 54 in pinctrl-rp1.c.
    public static func maximumPins(for model: GPIOModelKind) -> Int? {
        switch model {
        case .bcm2835: 54
        case .bcm2711: 58
        case .omap: 32
        case .rp1: Rp1.pins
        default: nil
        }
    }

    /// The layout of a block of `pins` lines, or nil when the model is not supported yet
    /// (`sunxi`, `rockchip`, ...) or `pins` is not in `1...maximumPins(for: model)`.
    public init?(model: GPIOModelKind, pins: Int) {
        guard let maxPins = GPIOLayout.maximumPins(for: model), (1...maxPins).contains(pins) else { return nil }
        self.model = model
        self.pins = pins
        let regs = GPIOLayout.makeRegisters(model: model, pins: pins).sorted { $0.offset < $1.offset }
        registers = regs
        registerIndex = Dictionary(uniqueKeysWithValues: regs.enumerated().map { ($0.element.offset, $0.offset) })
    }

    /// The layout of a board window, or nil when it is not a GPIO block of a supported model.
    public init?(window: BoardWindow) {
        guard let model = window.model, let pins = window.pins else { return nil }
        self.init(model: model, pins: pins)
    }

    /// The number of bytes from the window base that the modelled registers need.
    public var registerSpan: UInt64 { (registers.last?.offset ?? 0) + 4 }

    /// The physical addresses whose stores can reach this block's registers when it sits at
    /// `window`: the window, and on rp1 the RIO and pad registers that follow it.
    public func addresses(at window: BoardWindow) -> ClosedRange<UInt64> {
        window.range.base...(window.range.base + max(window.range.length, registerSpan) - 1)
    }

    /// The register at exactly `offset`, or nil when the model has none there.
    public func register(at offset: UInt64) -> GPIORegister? {
        registerIndex[offset].map { registers[$0] }
    }

    /// Throws unless `pin` is a pin of this block.
    public func checkPin(_ pin: Int) throws(IOGateError) {
        guard (0..<pins).contains(pin) else {
            throw IOGateError(.notFound, "pin \(pin) does not exist on this \(model.rawValue) block; pins 0...\(pins - 1)")
        }
    }

    // MARK: Per-pin registers

    /// The field that selects the pin's function: the 3-bit GPFSEL field (bcm), the OE bit (omap),
    /// or the 5-bit CTRL.FUNCSEL field (rp1, where input and output also differ in RIO OE: use
    /// `steps(selecting:pin:)` and `function(pin:read:)` to change or read a function).
    public func functionField(pin: Int) throws(IOGateError) -> RegisterField {
        try checkPin(pin)
        if model == .omap { return RegisterField(offset: Omap.oe, shift: pin, width: 1) }
        if model == .rp1 { return RegisterField(offset: Rp1.ctrl(pin), shift: 0, width: Rp1.funcsel.width) }
        let n = GPIOLayout.bcmPinsPerFunctionRegister
        return RegisterField(offset: Bcm.gpfsel0 + UInt64(pin / n) * 4, shift: (pin % n) * 3, width: 3)
    }

    /// The bit that drives the pin high when 1 is written (GPSETn, SETDATAOUT, RIO OUT's set alias).
    public func setBit(pin: Int) throws(IOGateError) -> RegisterBit {
        try bankBit(pin: pin, bcm: Bcm.gpset0, omap: Omap.setDataOut, rp1: (Rp1.rioOut, .set))
    }

    /// The bit that drives the pin low when 1 is written (GPCLRn, CLEARDATAOUT, RIO OUT's clear alias).
    public func clearBit(pin: Int) throws(IOGateError) -> RegisterBit {
        try bankBit(pin: pin, bcm: Bcm.gpclr0, omap: Omap.clearDataOut, rp1: (Rp1.rioOut, .clear))
    }

    /// The read-only bit that shows the pin's level (GPLEVn, DATAIN, RIO IN).
    public func levelBit(pin: Int) throws(IOGateError) -> RegisterBit {
        try bankBit(pin: pin, bcm: Bcm.gplev0, omap: Omap.dataIn, rp1: (Rp1.rioIn, nil))
    }

    /// The read/write bit of the output latch (omap DATAOUT, rp1 RIO OUT); nil on bcm, which has
    /// no readable latch.
    public func outputLatchBit(pin: Int) throws(IOGateError) -> RegisterBit? {
        try checkPin(pin)
        switch model {
        case .omap: return RegisterBit(offset: Omap.dataOut, bit: pin)
        case .rp1: return Rp1.rioBit(pin, Rp1.rioOut)
        default: return nil
        }
    }

    /// The pin's own pull field (bcm2711 GPIO_PUP_PDN_CNTRL_REGn, rp1 pad PULL); nil on bcm2835,
    /// whose pulls are latched through GPPUD and GPPUDCLKn, and on omap, whose pulls live in the
    /// control module's pad registers.
    public func pullField(pin: Int) throws(IOGateError) -> RegisterField? {
        try checkPin(pin)
        if model == .rp1 { return RegisterField(offset: Rp1.pad(pin), shift: Rp1.padPull.shift, width: Rp1.padPull.width) }
        guard model == .bcm2711 else { return nil }
        let n = GPIOLayout.bcm2711PinsPerPullRegister
        return RegisterField(offset: Bcm.pupPdnCntrl0 + UInt64(pin / n) * 4, shift: (pin % n) * 2, width: 2)
    }

    private func bankBit(pin: Int, bcm: UInt64, omap: UInt64, rp1: (UInt64, GPIORegisterAlias?)) throws(IOGateError) -> RegisterBit {
        try checkPin(pin)
        if model == .omap { return RegisterBit(offset: omap, bit: pin) }
        if model == .rp1 { return Rp1.rioBit(pin, rp1.0, rp1.1) }
        return RegisterBit(offset: bcm + UInt64(pin / 32) * 4, bit: pin % 32)
    }

    // MARK: Register map

    /// BCM283x / BCM2711 register offsets (pinctrl-bcm2835.c).
    enum Bcm {
        static let gpfsel0: UInt64 = 0x00
        static let gpset0: UInt64 = 0x1c
        static let gpclr0: UInt64 = 0x28
        static let gplev0: UInt64 = 0x34
        static let gppud: UInt64 = 0x94
        static let gppudclk0: UInt64 = 0x98
        static let pupPdnCntrl0: UInt64 = 0xe4
    }

    /// OMAP4 / AM335x register offsets (gpio-omap.h).
    enum Omap {
        static let oe: UInt64 = 0x134
        static let dataIn: UInt64 = 0x138
        static let dataOut: UInt64 = 0x13c
        static let clearDataOut: UInt64 = 0x190
        static let setDataOut: UInt64 = 0x194
    }

    private static func makeRegisters(model: GPIOModelKind, pins: Int) -> [GPIORegister] {
        if model == .rp1 { return Rp1.registers(pins: pins) }
        if model == .omap {
            return [
                (GPIORegisterKind.function, Omap.oe), (.level, Omap.dataIn), (.outputLatch, Omap.dataOut),
                (.outputClear, Omap.clearDataOut), (.outputSet, Omap.setDataOut),
            ].map { GPIORegister(kind: $0.0, offset: $0.1, firstPin: 0, pinCount: pins, bitsPerPin: 1) }
        }
        // Registers of `perRegister` pins each, `bits` bits per pin, from `first` on.
        func bank(_ kind: GPIORegisterKind, _ first: UInt64, perRegister: Int, bits: Int) -> [GPIORegister] {
            stride(from: 0, to: pins, by: perRegister).map { firstPin in
                GPIORegister(
                    kind: kind, offset: first + UInt64(firstPin / perRegister) * 4, firstPin: firstPin,
                    pinCount: min(perRegister, pins - firstPin), bitsPerPin: bits)
            }
        }
        var regs = bank(.function, Bcm.gpfsel0, perRegister: bcmPinsPerFunctionRegister, bits: 3)
        regs += bank(.outputSet, Bcm.gpset0, perRegister: 32, bits: 1)
        regs += bank(.outputClear, Bcm.gpclr0, perRegister: 32, bits: 1)
        regs += bank(.level, Bcm.gplev0, perRegister: 32, bits: 1)
        if model == .bcm2835 {
            // GPPUD holds one 2-bit pull code for whichever pins GPPUDCLKn then clocks: it covers no pin itself.
            regs.append(GPIORegister(kind: .pullControl, offset: Bcm.gppud, firstPin: 0, pinCount: 0, bitsPerPin: 2))
            regs += bank(.pullClock, Bcm.gppudclk0, perRegister: 32, bits: 1)
        } else {
            regs += bank(.pull, Bcm.pupPdnCntrl0, perRegister: bcm2711PinsPerPullRegister, bits: 2)
        }
        return regs
    }
}
