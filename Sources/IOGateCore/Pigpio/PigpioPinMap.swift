/// pigpio's pin numbers on a board: its GPIO windows with a register model, numbered across the
/// windows in board order (as `iogate gpio` numbers them: AM335x pin 49 is gpio1 line 17), and the
/// physical address of every register bit pigpio's commands touch. Pure arithmetic over
/// `GPIOLayout`.
///
/// pigpio groups pins in banks of 32 for BR/BC/BS: bank 0 is pins 0-31 (bit n is pin n), bank 1
/// pins 32-63 (bit n is pin 32 + n).
public struct PigpioPinMap: Sendable {
    /// One GPIO window and the pigpio number of its first pin.
    public struct Block: Sendable {
        public var window: BoardWindow
        public var layout: GPIOLayout
        public var firstPin: Int
    }

    /// The GPIO windows with a supported register model, in board order.
    public let blocks: [Block]
    /// Number of pins; valid pigpio pin numbers are `0..<pinCount`.
    public let pinCount: Int

    /// The map of a board, or nil when none of its GPIO windows has a register model that
    /// `GPIOLayout` supports (bcm2835, bcm2711, rp1, omap).
    public init?(board: Board) {
        var blocks: [Block] = []
        var next = 0
        for w in board.gpioWindows {
            guard let layout = GPIOLayout(window: w) else { continue }
            blocks.append(Block(window: w, layout: layout, firstPin: next))
            next += layout.pins
        }
        guard !blocks.isEmpty else { return nil }
        self.blocks = blocks
        pinCount = next
    }

    /// The block and the pin's number inside it; nil for a pin the board does not have.
    public func locate(_ pin: Int) -> (block: Block, local: Int)? {
        guard pin >= 0, pin < pinCount else { return nil }
        let b = blocks.last { $0.firstPin <= pin }!
        return (b, pin - b.firstPin)
    }

    /// The physical address of the register holding `field` of a block.
    func address(_ block: Block, _ offset: UInt64) -> UInt64 { block.window.range.base + offset }

    /// The pin's function field and the physical address of its register.
    public func functionField(_ pin: Int) -> (address: UInt64, field: RegisterField)? {
        guard let (b, local) = locate(pin), let f = try? b.layout.functionField(pin: local) else { return nil }
        return (address(b, f.offset), f)
    }

    /// The pin's pull field (bcm2711) and the physical address of its register.
    public func pullField(_ pin: Int) -> (address: UInt64, field: RegisterField)? {
        guard let (b, local) = locate(pin), let f = try? b.layout.pullField(pin: local) else { return nil }
        return (address(b, f.offset), f)
    }

    /// The physical address and mask of the pin's bit in a register of `kind`: `.level`,
    /// `.outputSet` or `.outputClear`.
    public func bit(_ kind: GPIORegisterKind, _ pin: Int) -> (address: UInt64, mask: UInt64)? {
        guard let (b, local) = locate(pin) else { return nil }
        let bit: RegisterBit?
        switch kind {
        case .level: bit = try? b.layout.levelBit(pin: local)
        case .outputSet: bit = try? b.layout.setBit(pin: local)
        case .outputClear: bit = try? b.layout.clearBit(pin: local)
        default: bit = nil
        }
        return bit.map { (address(b, $0.offset), $0.mask) }
    }

    /// The addresses of the registers a pigpio client must be able to write for `pin` to count as
    /// writable: every register that making it an input or output and driving it writes (function
    /// select, set and clear; on rp1 also RIO OE and the pad). nil for a pin the board lacks.
    public func controlRegisters(_ pin: Int) -> [UInt64]? {
        guard let (b, local) = locate(pin), let offsets = try? b.layout.controlOffsets(pin: local) else { return nil }
        return offsets.map { address(b, $0) }
    }

    /// The pin's bits in each register of `controlRegisters(pin)`: what a pin grant must hold
    /// for the pin to count as writable. nil for a pin the board lacks.
    public func controlBits(_ pin: Int) -> [(address: UInt64, mask: UInt64)]? {
        guard let (b, local) = locate(pin), let offsets = try? b.layout.controlOffsets(pin: local) else { return nil }
        return offsets.map { offset in
            guard let reg = b.layout.register(at: offset), reg.pins.contains(local) else { return (address(b, offset), 0xFFFF_FFFF) }
            let field: UInt64 = reg.bitsPerPin >= 32 ? 0xFFFF_FFFF : (1 << UInt64(reg.bitsPerPin)) - 1
            return (address(b, offset), field << UInt64((local - reg.firstPin) * reg.bitsPerPin))
        }
    }

    /// The register writes that set (or clear) the pins of `bank` whose bits are in `bits`: one
    /// (address, mask) per register, in address order. nil when a bit names a pin the board lacks,
    /// listing those pins.
    public func bankWrites(_ kind: GPIORegisterKind, bank: Int, bits: UInt32) -> Result<[(address: UInt64, mask: UInt64)], PinsMissing> {
        var masks: [UInt64: UInt64] = [:]
        var missing: [Int] = []
        var rest = bits
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            let pin = bank * 32 + i
            guard let b = bit(kind, pin) else {
                missing.append(pin)
                continue
            }
            masks[b.address, default: 0] |= b.mask
        }
        if !missing.isEmpty { return .failure(PinsMissing(pins: missing)) }
        return .success(masks.keys.sorted().map { ($0, masks[$0]!) })
    }

    /// Where each existing pin of `bank` shows its level: (bit in the pigpio word, register
    /// address, register mask). Empty for a bank past the board's pins.
    public func bankLevels(bank: Int) -> [(bit: Int, address: UInt64, mask: UInt64)] {
        (0..<32).compactMap { i in bit(.level, bank * 32 + i).map { (i, $0.address, $0.mask) } }
    }

    /// Assembles a pigpio bank word from register values read at the addresses `bankLevels` names.
    public static func bankWord(_ levels: [(bit: Int, address: UInt64, mask: UInt64)], registers: [UInt64: UInt64]) -> UInt32 {
        var word: UInt32 = 0
        for l in levels where (registers[l.address] ?? 0) & l.mask != 0 { word |= 1 << UInt32(l.bit) }
        return word
    }

    /// Pins a bank command named that the board does not have.
    public struct PinsMissing: Error, Hashable, Sendable {
        public var pins: [Int]
    }
}
