/// How a store to a 32-bit register of which a grant holds only some bits is handled.
public enum MaskedStore: UInt8, Hashable, Sendable {
    /// The register's bits are fields of different pins and reading it has no side effect
    /// (GPFSELn, pull fields, OMAP OE and DATAOUT, RP1 RIO OUT/OE, GPLEVn): a plain write becomes
    /// a read-modify-write of the granted bits under the window lock; the other bits keep their value.
    case field
    /// Only the bits written as 1 act (GPSETn, GPCLRn, GPPUDCLKn, SETDATAOUT, CLEARDATAOUT, RP1's
    /// XOR/set/clear aliases): a plain write is stored as it is when all its 1 bits are granted,
    /// and refused otherwise; a modify stores only granted bits.
    case ones
    /// Nothing is known of the register (a raw `bits = [...]` range): reading it might have side
    /// effects (a FIFO, a read-to-clear status), so a plain write that does not cover the whole
    /// register is refused; a modify within the granted bits is the client's explicit choice.
    case refuse
}

/// The bits of each 32-bit register a grant allows to change, over one granted range: from
/// `pins = [...]` through the board's GPIO model, or from `bits = [...]` (one mask for every
/// register of a raw range). Built once per policy; shared, never changed.
public final class RegisterMasks: Hashable, Sendable, CustomStringConvertible {
    /// One mask per 32-bit word of the range, from its base; empty when `uniform` applies.
    public let words: [UInt32]
    /// How each word is stored when partly granted (parallel to `words`).
    public let modes: [MaskedStore]
    /// For each word, the pin (board numbering) of bit 0's field and the bits per pin (0: the word
    /// belongs to no pin), to name pins in refusals.
    let firstPins: [Int32]
    let bitsPerPin: [UInt8]
    /// The mask of every word of a `bits` range.
    public let uniform: UInt32
    /// The pins granted (board numbering, ascending); empty for a `bits` range.
    public let pins: [Int]

    init(words: [UInt32], modes: [MaskedStore], firstPins: [Int32], bitsPerPin: [UInt8], pins: [Int]) {
        self.words = words
        self.modes = modes
        self.firstPins = firstPins
        self.bitsPerPin = bitsPerPin
        self.uniform = 0
        self.pins = pins
    }

    /// The masks of a raw range: `bits` for every 32-bit register.
    public init(bits: UInt32) {
        words = []
        modes = []
        firstPins = []
        bitsPerPin = []
        uniform = bits
        pins = []
    }

    /// True for a pin grant.
    public var isPins: Bool { !words.isEmpty }

    public static func == (a: RegisterMasks, b: RegisterMasks) -> Bool {
        a.words == b.words && a.modes == b.modes && a.uniform == b.uniform && a.pins == b.pins
    }

    public func hash(into h: inout Hasher) {
        h.combine(words)
        h.combine(uniform)
        h.combine(pins)
    }

    /// `pins 2-27` or `bits 0x000000FF`.
    public var description: String {
        isPins ? "pins \(RegisterMasks.ranges(pins))" : "bits \(hex(UInt64(uniform), digits: 8))"
    }

    /// `2-4, 17, 27`.
    public static func ranges(_ pins: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < pins.count {
            var j = i
            while j + 1 < pins.count && pins[j + 1] == pins[j] + 1 { j += 1 }
            parts.append(j > i ? "\(pins[i])-\(pins[j])" : "\(pins[i])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    @inline(__always)
    func word(_ i: Int) -> UInt32 {
        if words.isEmpty { return uniform }
        return i >= 0 && i < words.count ? words[i] : 0
    }

    @inline(__always)
    func mode(_ i: Int) -> MaskedStore {
        if words.isEmpty { return .refuse }
        return i >= 0 && i < modes.count ? modes[i] : .refuse
    }

    /// The granted bits of an access of `width` at `offset` bytes from the range's base (aligned
    /// to the width), least significant byte at `offset`, and how a partial store is handled (for
    /// a 64-bit access over two registers of different kinds, `.refuse`).
    @inline(__always)
    public func granted(offset: UInt64, width: AccessWidth) -> (mask: UInt64, mode: MaskedStore) {
        let i = Int(truncatingIfNeeded: offset >> 2)
        if width == .double {
            let (m0, m1) = (mode(i), mode(i + 1))
            return (UInt64(word(i)) | UInt64(word(i + 1)) << 32, m0 == m1 ? m0 : .refuse)
        }
        let shift = (offset & 3) * 8
        return ((UInt64(word(i)) >> shift) & width.maxValue, mode(i))
    }

    /// The pins (board numbering) whose bits `bits` of an access at `offset` are, ascending.
    public func pins(of bits: UInt64, offset: UInt64) -> [Int] {
        var out = Set<Int>()
        var rest = bits
        while rest != 0 {
            let b = rest.trailingZeroBitCount
            rest &= rest - 1
            let byte = offset &+ UInt64(b / 8)
            let i = Int(truncatingIfNeeded: byte >> 2)
            guard i >= 0, i < bitsPerPin.count, bitsPerPin[i] > 0 else { continue }
            let bit = Int(byte & 3) * 8 + b % 8
            out.insert(Int(firstPins[i]) + bit / Int(bitsPerPin[i]))
        }
        return out.sorted()
    }

    /// What is not granted in `bits`, for a refusal: `pin 22 (and 23)` or `bits 0x0000FF00`.
    public func describe(notGranted bits: UInt64, offset: UInt64, width: AccessWidth) -> String {
        let pins = isPins ? self.pins(of: bits, offset: offset) : []
        if pins.isEmpty {
            return
                "bits \(hex(bits, digits: width.hexDigits)) (granted: \(hex(granted(offset: offset, width: width).mask, digits: width.hexDigits)))"
        }
        return (pins.count == 1 ? "pin \(pins[0])" : "pins \(RegisterMasks.ranges(pins))") + " (granted: \(description))"
    }

    /// The union of two pin grants over the same range.
    public func union(_ other: RegisterMasks) -> RegisterMasks {
        guard isPins && other.isPins else { return RegisterMasks(bits: uniform | other.uniform) }
        let n = max(words.count, other.words.count)
        return RegisterMasks(
            words: (0..<n).map { word($0) | other.word($0) },
            modes: (0..<n).map { $0 < modes.count ? modes[$0] : other.mode($0) },
            firstPins: (0..<n).map { $0 < firstPins.count && bitsPerPin[$0] > 0 ? firstPins[$0] : other.firstPins[safe: $0] ?? 0 },
            bitsPerPin: (0..<n).map { max(bitsPerPin[safe: $0] ?? 0, other.bitsPerPin[safe: $0] ?? 0) },
            pins: Array(Set(pins + other.pins)).sorted())
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}

/// Turns `pins = [...]` into register masks over the board's windows, through each GPIO block's
/// register model (`GPIOLayout`): the pin's function-select field, its bits in the set, clear,
/// level and output-enable registers, its pull field (bcm2711) or pull clock bit (bcm2835), and on
/// RP1 its CTRL and pad registers and its RIO bits, each with the XOR/set/clear aliases. Pins are
/// numbered across the board's GPIO windows in board order, as `iogate gpio` and the pigpio
/// frontend number them.
public enum PinGrant {
    /// The granted ranges (whole board windows, each with its masks) that `pins` need, or an
    /// error naming what is wrong (no GPIO model on the board, a pin out of range).
    public static func ranges(board: Board, pins: [Int], access: Access) throws(IOGateError) -> [GrantedRange] {
        guard let map = PigpioPinMap(board: board) else {
            let models = board.gpioWindows.map { "\($0.name) (\($0.model?.rawValue ?? "?"))" }
            throw IOGateError(
                .config,
                "board '\(board.id)' has no GPIO block with a register model IOGate knows (bcm2835, bcm2711, rp1, omap)"
                    + (models.isEmpty ? "" : "; its GPIO windows: \(models.joined(separator: ", "))")
                    + ", so pins cannot be turned into register bits; grant windows or IoBase/IoLen ranges instead")
        }
        for p in pins where map.locate(p) == nil {
            throw IOGateError(.config, "pin \(p) does not exist on board '\(board.id)'; its pins are 0...\(map.pinCount - 1)")
        }
        let wanted = Set(pins)
        struct Building {
            var words: [UInt32]
            var modes: [MaskedStore]
            var firstPins: [Int32]
            var bitsPerPin: [UInt8]
            var pins: Set<Int> = []
        }
        var byWindow: [String: Building] = [:]
        for block in map.blocks {
            let local = wanted.compactMap { p -> Int? in
                let l = p - block.firstPin
                return (0..<block.layout.pins).contains(l) ? l : nil
            }
            guard !local.isEmpty else { continue }
            for reg in block.layout.registers {
                var mask: UInt32 = 0
                if reg.kind == .pullControl {
                    mask = 0x3  // GPPUD: the pull code that GPPUDCLKn applies; it changes no pin by itself
                } else {
                    for l in local where reg.pins.contains(l) {
                        let field: UInt64 = reg.bitsPerPin >= 32 ? 0xFFFF_FFFF : (1 << UInt64(reg.bitsPerPin)) - 1
                        mask |= UInt32(truncatingIfNeeded: field << UInt64((l - reg.firstPin) * reg.bitsPerPin))
                    }
                }
                guard mask != 0 else { continue }
                let address = block.window.range.base + reg.offset
                guard let w = board.windows.first(where: { $0.range.contains(address, size: 4) }) else { continue }
                let count = Int((w.range.length + 3) / 4)
                var b =
                    byWindow[w.name]
                    ?? Building(
                        words: .init(repeating: 0, count: count), modes: .init(repeating: .field, count: count),
                        firstPins: .init(repeating: 0, count: count), bitsPerPin: .init(repeating: 0, count: count))
                let i = Int((address - w.range.base) / 4)
                b.words[i] |= mask
                b.modes[i] = reg.actsOnOnes ? .ones : .field
                if reg.pinCount > 0 {
                    b.firstPins[i] = Int32(block.firstPin + reg.firstPin)
                    b.bitsPerPin[i] = UInt8(min(reg.bitsPerPin, 32))
                }
                b.pins.formUnion(local.filter { reg.pins.contains($0) }.map { $0 + block.firstPin })
                byWindow[w.name] = b
            }
        }
        // Every modelled register of those windows knows its pins, granted or not, so that a
        // refusal can name the pins of a register that holds none of the grant's.
        for block in map.blocks {
            for reg in block.layout.registers where reg.pinCount > 0 {
                let address = block.window.range.base + reg.offset
                guard let w = board.windows.first(where: { $0.range.contains(address, size: 4) }), var b = byWindow[w.name] else {
                    continue
                }
                let i = Int((address - w.range.base) / 4)
                if b.bitsPerPin[i] == 0 {
                    b.modes[i] = reg.actsOnOnes ? .ones : .field
                    b.firstPins[i] = Int32(block.firstPin + reg.firstPin)
                    b.bitsPerPin[i] = UInt8(min(reg.bitsPerPin, 32))
                    byWindow[w.name] = b
                }
            }
        }
        return board.windows.compactMap { w in
            byWindow[w.name].map { b in
                GrantedRange(
                    range: w.range, window: w.name, access: access,
                    masks: RegisterMasks(
                        words: b.words, modes: b.modes, firstPins: b.firstPins, bitsPerPin: b.bitsPerPin, pins: b.pins.sorted()))
            }
        }
    }
}

/// What a register access through a pin or bit grant becomes (`Allowlist.masked`).
public enum MaskedAccess: Hashable, Sendable {
    /// As asked: every bit it can change is granted.
    case plain
    /// A plain write becomes a read-modify-write of these bits, under the window lock.
    case readModifyWrite(mask: UInt64)
    /// A modify of a write-1-to-act register stores only these bits of its result (the register
    /// may read back ones of other pins, OMAP's SETDATAOUT does, which must not act again).
    case storeOnly(mask: UInt64)
}

/// The kind of a checked access.
public enum AccessKind: Sendable {
    case read, write, modify
}

extension Allowlist {
    /// For an access that `check` allowed through entry `entry`: when that entry is a pin or bit
    /// grant, what the access becomes, or the refusal naming the pins or bits not granted.
    /// `value` is a write's value; `mask` a modify's mask.
    public func masked(
        _ entry: Int, _ address: UInt64, width: AccessWidth, kind: AccessKind, value: UInt64 = 0, mask: UInt64 = 0
    ) throws(IOGateError) -> MaskedAccess {
        guard let masks = entries[entry].masks else { return .plain }
        let offset = address &- entries[entry].range.base
        let (g, mode) = masks.granted(offset: offset, width: width)
        let full = width.maxValue
        // Messages are built only for a refusal: this runs for every access through such a grant.
        func refuse(_ why: String, bits: UInt64 = 0) -> IOGateError {
            let what = "\(kind == .read ? "read" : kind == .write ? "write" : "modify") of \(width.bits) bits at \(hex(address))"
            // The details name the access, the grant and, for a pin grant, the first pin not granted.
            let pin = masks.isPins ? masks.pins(of: bits, offset: offset).first : nil
            return IOGateError(
                .outsideAllowlist, "\(what) refused: \(why); \(client)'s grant of \(entries[entry]) does not allow it",
                details: .init(address: address, size: UInt64(width.bytes), granted: [entries[entry]], pin: pin))
        }
        guard g != 0 else {
            if kind != .read {
                let bits = kind == .modify ? mask & full : mode == .ones ? value & full : full
                let pins = masks.pins(of: bits, offset: offset)
                if !pins.isEmpty {
                    let named = pins.count == 1 ? "pin \(pins[0])" : "pins \(RegisterMasks.ranges(pins))"
                    throw refuse("it would change \(named) (granted: \(masks.description)); no bit of this register is granted", bits: bits)
                }
            }
            throw refuse("no bit of this register is granted")
        }
        switch kind {
        case .read:
            return .plain
        case .write:
            if g == full { return .plain }
            switch mode {
            case .field:
                return .readModifyWrite(mask: g)
            case .ones:
                let bad = value & full & ~g
                guard bad == 0 else {
                    throw refuse("it would act on \(masks.describe(notGranted: bad, offset: offset, width: width))", bits: bad)
                }
                return .plain
            case .refuse:
                throw refuse(
                    "a plain write would store \(masks.describe(notGranted: full & ~g, offset: offset, width: width)) too, and "
                        + "reading this register to keep them may have side effects; use modify with a mask within the granted bits",
                    bits: full & ~g)
            }
        case .modify:
            let bad = mask & full & ~g
            guard bad == 0 else {
                throw refuse("its mask would change \(masks.describe(notGranted: bad, offset: offset, width: width))", bits: bad)
            }
            return g == full || mode != .ones ? .plain : .storeOnly(mask: g)
        }
    }
}
