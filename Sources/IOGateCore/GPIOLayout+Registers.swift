/// A field of a 32-bit register: `width` bits from bit `shift` of the register at `offset`.
public struct RegisterField: Hashable, Sendable, CustomStringConvertible {
    /// Offset of the register from the window base.
    public var offset: UInt64
    /// Position of the field's lowest bit.
    public var shift: Int
    /// Number of bits.
    public var width: Int

    /// Creates a field.
    public init(offset: UInt64, shift: Int, width: Int) {
        self.offset = offset
        self.shift = shift
        self.width = width
    }

    /// The field's bits in the register.
    public var mask: UInt64 { ((1 << UInt64(width)) - 1) << UInt64(shift) }

    /// The field's value in `register`.
    public func extract(from register: UInt64) -> UInt64 { (register & mask) >> UInt64(shift) }

    /// `register` with the field replaced by `value` (truncated to the field's width).
    public func insert(_ value: UInt64, into register: UInt64) -> UInt64 {
        (register & ~mask) | ((value << UInt64(shift)) & mask)
    }

    /// Renders as `0x4[21..<24]`.
    public var description: String { "\(hex(offset))[\(shift)..<\(shift + width)]" }
}

/// One bit of a 32-bit register.
public struct RegisterBit: Hashable, Sendable, CustomStringConvertible {
    /// Offset of the register from the window base.
    public var offset: UInt64
    /// Bit number, 0...31.
    public var bit: Int

    /// Creates a bit.
    public init(offset: UInt64, bit: Int) {
        self.offset = offset
        self.bit = bit
    }

    /// The bit as a mask.
    public var mask: UInt64 { 1 << UInt64(bit) }

    /// Renders as `0x1C[17]`.
    public var description: String { "\(hex(offset))[\(bit)]" }
}

/// What a GPIO register controls for the pins it covers.
public enum GPIORegisterKind: String, CaseIterable, Hashable, Sendable {
    /// Function select: GPFSELn (bcm) or OE (omap, 1 = input).
    case function
    /// Writing 1 drives the pin high: GPSETn, SETDATAOUT.
    case outputSet
    /// Writing 1 drives the pin low: GPCLRn, CLEARDATAOUT.
    case outputClear
    /// The output latch, read/write: DATAOUT (omap only).
    case outputLatch
    /// The pin levels, read-only: GPLEVn, DATAIN.
    case level
    /// Per-pin pull field: GPIO_PUP_PDN_CNTRL_REGn (bcm2711).
    case pull
    /// The pull code GPPUD (bcm2835) that GPPUDCLKn applies; it covers no pin by itself.
    case pullControl
    /// Writing 1 applies GPPUD's pull code to the pin: GPPUDCLKn (bcm2835).
    case pullClock
    /// Output enable, one bit per pin, 1 = the pin drives its output: RIO OE (rp1).
    case outputEnable
    /// A pin's whole pad control register: pull, input enable, output disable, drive strength,
    /// slew and Schmitt trigger (rp1 PADS).
    case pad

    /// True when writing the register cannot change anything.
    public var isReadOnly: Bool { self == .level }

    /// True when writing the register can change what a pin drives (its output value).
    public var changesOutput: Bool {
        self == .outputSet || self == .outputClear || self == .outputLatch || self == .outputEnable
    }
}

/// An atomic alias of a register (rp1): a store there changes only the bits written as 1 of the
/// register at `offset - delta`, setting, clearing or inverting them. Every RP1 register has the
/// three, at +0x1000 (XOR), +0x2000 (set) and +0x3000 (clear); pinctrl-rp1.c writes RIO OUT and OE
/// and the CTRL interrupt bits through them.
public enum GPIORegisterAlias: String, CaseIterable, Hashable, Sendable {
    case toggle
    case set
    case clear

    /// Distance from the register the alias acts on.
    public var delta: UInt64 {
        switch self {
        case .toggle: 0x1000
        case .set: 0x2000
        case .clear: 0x3000
        }
    }

    /// The register value after a store of `ones` here, when it was `old`.
    public func apply(_ ones: UInt64, to old: UInt64) -> UInt64 {
        switch self {
        case .toggle: old ^ ones
        case .set: old | ones
        case .clear: old & ~ones
        }
    }
}

/// One 32-bit register of a GPIO block and the pins its bits belong to.
public struct GPIORegister: Hashable, Sendable, CustomStringConvertible {
    /// What the register controls.
    public var kind: GPIORegisterKind
    /// Offset from the window base.
    public var offset: UInt64
    /// The pin of the lowest field.
    public var firstPin: Int
    /// How many pins have a field here (0 for `pullControl`).
    public var pinCount: Int
    /// Width of each pin's field (32 for a register that belongs to one pin as a whole).
    public var bitsPerPin: Int
    /// Set when this is an atomic alias of the `kind` register at `offset - alias.delta`.
    public var alias: GPIORegisterAlias?

    /// Creates a register description.
    public init(
        kind: GPIORegisterKind, offset: UInt64, firstPin: Int, pinCount: Int, bitsPerPin: Int, alias: GPIORegisterAlias? = nil
    ) {
        self.kind = kind
        self.offset = offset
        self.firstPin = firstPin
        self.pinCount = pinCount
        self.bitsPerPin = bitsPerPin
        self.alias = alias
    }

    /// The same register seen through its atomic `alias`.
    public func aliased(_ alias: GPIORegisterAlias) -> GPIORegister {
        GPIORegister(
            kind: kind, offset: offset + alias.delta, firstPin: firstPin, pinCount: pinCount, bitsPerPin: bitsPerPin, alias: alias)
    }

    /// True when only the bits written as 1 act: set/clear registers and atomic aliases.
    public var actsOnOnes: Bool { alias != nil || kind.actsOnOnes }

    /// The pins covered, in order.
    public var pins: Range<Int> { firstPin..<(firstPin + pinCount) }

    /// The pin that owns `bit` (0...31), or nil for an unused bit.
    public func pin(forBit bit: Int) -> Int? {
        guard bit >= 0, bitsPerPin > 0 else { return nil }
        let index = bit / bitsPerPin
        return index < pinCount ? firstPin + index : nil
    }

    /// The bits that belong to pins.
    public var usedMask: UInt64 {
        let bits = pinCount * bitsPerPin
        return bits >= 32 ? 0xFFFF_FFFF : (1 << UInt64(bits)) - 1
    }

    /// Renders as `outputSet@0x1C (pins 0...31)`, or `outputLatch.set@0x12000 (pins 0...27)` for an alias.
    public var description: String {
        let name = alias.map { "\(kind).\($0)" } ?? "\(kind)"
        return pinCount == 0 ? "\(name)@\(hex(offset))" : "\(name)@\(hex(offset)) (pins \(firstPin)...\(firstPin + pinCount - 1))"
    }
}

/// The pins one access touches in one kind of register.
public struct PinEffect: Hashable, Sendable {
    /// What those registers control.
    public var kind: GPIORegisterKind
    /// The pins, ascending, without repeats.
    public var pins: [Int]

    /// Creates an effect.
    public init(kind: GPIORegisterKind, pins: [Int]) {
        self.kind = kind
        self.pins = pins
    }
}

extension GPIOLayout {
    /// The pins whose fields an access at `offset` covers, grouped by register kind (in
    /// `GPIORegisterKind` order). `mask` is the accessed bits of the value, least significant byte
    /// at `offset` (little-endian), so a byte access at 0x1E with mask 0x02 is GPSET0 bit 17, and a
    /// 64-bit mask may span two registers. Bits in no modelled register, or in unused bits of one,
    /// are skipped. A `pullControl` (GPPUD) access is reported with no pins.
    public func effects(offset: UInt64, mask: UInt64) -> [PinEffect] {
        var byKind: [GPIORegisterKind: Set<Int>] = [:]
        forEachBit(offset: offset, mask: mask) { reg, pin in
            if let pin {
                byKind[reg.kind, default: []].insert(pin)
            } else if reg.kind == .pullControl {
                byKind[reg.kind, default: []].formUnion([])
            }
        }
        return GPIORegisterKind.allCases.compactMap { kind in
            byKind[kind].map { PinEffect(kind: kind, pins: $0.sorted()) }
        }
    }

    /// Calls `body` with the register and pin (nil for an unused bit) of every bit of `mask` that
    /// lies in a modelled register (see `effects(offset:mask:)` for how `mask` is read).
    func forEachBit(offset: UInt64, mask: UInt64, _ body: (GPIORegister, Int?) -> Void) {
        var rest = mask
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            let (byteAddress, overflow) = offset.addingReportingOverflow(UInt64(i / 8))
            guard !overflow, let reg = register(at: byteAddress & ~3) else { continue }
            body(reg, reg.pin(forBit: Int(byteAddress & 3) * 8 + i % 8))
        }
    }

    /// The pins whose function, output, or pull a write at `offset` of the bits in `mask` can change
    /// (see `effects(offset:mask:)`); read-only registers (GPLEVn, DATAIN) change none. Which kind
    /// of register was hit is in `effects(offset:mask:)`.
    public func affectedPins(offset: UInt64, mask: UInt64) -> [Int] {
        let pins = effects(offset: offset, mask: mask).filter { !$0.kind.isReadOnly }.flatMap(\.pins)
        return Array(Set(pins)).sorted()
    }
}
