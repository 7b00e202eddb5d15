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

    /// True when writing the register cannot change anything.
    public var isReadOnly: Bool { self == .level }

    /// True when writing the register can change what a pin drives (its output value).
    public var changesOutput: Bool { self == .outputSet || self == .outputClear || self == .outputLatch }
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
    /// Width of each pin's field.
    public var bitsPerPin: Int

    /// Creates a register description.
    public init(kind: GPIORegisterKind, offset: UInt64, firstPin: Int, pinCount: Int, bitsPerPin: Int) {
        self.kind = kind
        self.offset = offset
        self.firstPin = firstPin
        self.pinCount = pinCount
        self.bitsPerPin = bitsPerPin
    }

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

    /// Renders as `outputSet@0x1C (pins 0...31)`.
    public var description: String {
        pinCount == 0 ? "\(kind)@\(hex(offset))" : "\(kind)@\(hex(offset)) (pins \(firstPin)...\(firstPin + pinCount - 1))"
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
        var rest = mask
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            let (byteAddress, overflow) = offset.addingReportingOverflow(UInt64(i / 8))
            guard !overflow, let reg = register(at: byteAddress & ~3) else { continue }
            let bit = Int(byteAddress & 3) * 8 + i % 8
            if let pin = reg.pin(forBit: bit) {
                byKind[reg.kind, default: []].insert(pin)
            } else if reg.kind == .pullControl {
                byKind[reg.kind, default: []].formUnion([])
            }
        }
        return GPIORegisterKind.allCases.compactMap { kind in
            byKind[kind].map { PinEffect(kind: kind, pins: $0.sorted()) }
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
