import IOGateCore

/// The state and register behaviour of one simulated GPIO block, as the silicon does it.
///
/// Function-select, pull and pad registers, and every offset the layout does not model, are plain
/// memory (they read back as written). Output latches, rp1 output enables and simulated input
/// levels are kept here, as bit masks indexed by pin. A store to an atomic alias (rp1) sets,
/// clears or inverts the written 1 bits of its register; a load from one reads the register.
/// Always used under `MockBoard`'s lock.
struct SimulatedGPIOBlock {
    let window: BoardWindow
    let layout: GPIOLayout
    /// The physical addresses the block answers: its window, and on rp1 the RIO and pad registers
    /// that follow it (`GPIOLayout.addresses(at:)`).
    let span: ClosedRange<UInt64>
    /// The output latch: bit n is pin n's driven value.
    var latch: UInt64 = 0
    /// rp1 RIO OE: bit n set when pin n drives its output.
    var outputEnable: UInt64 = 0
    /// Pins whose level the test (the outside world) drives.
    var driven: UInt64 = 0
    /// Levels of the `driven` pins.
    var inputLevels: UInt64 = 0
    /// bcm2835 only: the pull each pin got when GPPUDCLKn last clocked it.
    var latchedPulls: [PinPull]

    init(window: BoardWindow, layout: GPIOLayout, memory: inout SparseMemory) {
        self.window = window
        self.layout = layout
        span = layout.addresses(at: window)
        latchedPulls = Array(repeating: .none, count: layout.pins)
        // GPIO_OE resets to all ones (every pin an input) on OMAP4/AM335x; BCM's GPFSEL reset of
        // zero (all inputs) is already what zeroed memory gives.
        if layout.model == .omap, let oe = layout.registers.first(where: { $0.kind == .function }) {
            memory.storeWord(window.range.base + oe.offset, UInt32(truncatingIfNeeded: oe.usedMask), byteMask: .max)
        }
        // rp1: every CTRL at FUNCSEL 0x1f (RP1_FSEL_NONE_HW, no function) and every pad input-enabled
        // with a pull-down, 4 mA drive and Schmitt trigger (0x56): what Raspberry Pi OS's `pinctrl`
        // shows as `no pd` for an unclaimed Pi 5 pin. This is the mock's start state, not a datasheet figure.
        if layout.model == .rp1 {
            for reg in layout.registers where reg.alias == nil && (reg.kind == .function || reg.kind == .pad) {
                memory.storeWord(window.range.base + reg.offset, reg.kind == .function ? 0x1f : 0x56, byteMask: .max)
            }
        }
    }

    /// True when the 32-bit register at the 4-aligned physical `address` belongs to this block.
    func contains(_ address: UInt64) -> Bool { span.contains(address) }

    // MARK: Registers

    /// Reads the 32-bit register at `offset` from the window base.
    func read(offset: UInt64, memory: SparseMemory) -> UInt32 {
        guard let reg = layout.register(at: offset) else { return word(offset, memory) }
        if let alias = reg.alias { return read(offset: offset - alias.delta, memory: memory) }
        switch reg.kind {
        case .function, .pull, .pullControl, .pullClock, .pad:
            return word(offset, memory)
        case .outputEnable:
            return bits(outputEnable, reg)
        case .outputSet, .outputClear:
            // GPSET/GPCLR are write-only and read as 0; SETDATAOUT/CLEARDATAOUT read back DATAOUT.
            return layout.model == .omap ? bits(latch, reg) : 0
        case .outputLatch:
            return bits(latch, reg)
        case .level:
            var levels: UInt64 = 0
            for pin in reg.pins where level(pin: pin, memory: memory) { levels |= 1 << UInt64(pin) }
            return bits(levels, reg)
        }
    }

    /// Writes the bytes of `value` selected by `byteMask` to the 32-bit register at `offset`.
    mutating func write(offset: UInt64, value: UInt32, byteMask: UInt32, memory: inout SparseMemory) {
        let address = window.range.base + offset
        guard let reg = layout.register(at: offset) else {
            memory.storeWord(address, value, byteMask: byteMask)
            return
        }
        if let alias = reg.alias {
            let target = offset - alias.delta
            let old = UInt64(read(offset: target, memory: memory))
            let new = alias.apply(UInt64(value & byteMask), to: old)
            write(offset: target, value: UInt32(truncatingIfNeeded: new), byteMask: .max, memory: &memory)
            return
        }
        // The pins whose bits this write carries, and the 1 bits among them, as pin-indexed masks.
        let written = UInt64(byteMask) & reg.usedMask
        let writtenPins = written << UInt64(reg.firstPin)
        let ones = (UInt64(value) & written) << UInt64(reg.firstPin)
        switch reg.kind {
        case .function, .pull, .pullControl, .pad:
            memory.storeWord(address, value, byteMask: byteMask)
        case .pullClock:
            memory.storeWord(address, value, byteMask: byteMask)
            let control = layout.registers.first { $0.kind == .pullControl }.map { word($0.offset, memory) } ?? 0
            let pull = layout.decodePull(fieldValue: UInt64(control)) ?? .none
            for pin in reg.pins where ones & (1 << UInt64(pin)) != 0 { latchedPulls[pin] = pull }
        case .outputSet:
            latch |= ones
        case .outputClear:
            latch &= ~ones
        case .outputLatch:
            latch = (latch & ~writtenPins) | ones
        case .outputEnable:
            outputEnable = (outputEnable & ~writtenPins) | ones
        case .level:
            break  // read-only on the silicon
        }
    }

    // MARK: Pins

    /// The pin's selected function, from its registers as the layout reads them.
    func function(pin: Int, memory: SparseMemory) -> PinFunction {
        layout.function(pin: pin) { UInt64(read(offset: $0, memory: memory)) }
    }

    /// The pin's pull: its pull field (bcm2711, rp1), what GPPUDCLKn latched on bcm2835, none on omap.
    func pull(pin: Int, memory: SparseMemory) -> PinPull {
        if layout.model == .bcm2835 { return latchedPulls[pin] }
        return layout.pull(pin: pin) { UInt64(read(offset: $0, memory: memory)) } ?? .none
    }

    /// The pad level: the latch for an output; for an input or an alternate function (a
    /// peripheral, or the outside world, drives the pad) the simulated level when one is set,
    /// else 1 with a pull-up and 0 otherwise.
    func level(pin: Int, memory: SparseMemory) -> Bool {
        let bit: UInt64 = 1 << UInt64(pin)
        if function(pin: pin, memory: memory) == .output { return latch & bit != 0 }
        if driven & bit != 0 { return inputLevels & bit != 0 }
        return pull(pin: pin, memory: memory) == .up
    }

    /// Sets the level the outside world drives on `pin`, or releases it (nil).
    mutating func setInput(pin: Int, high: Bool?) {
        let bit: UInt64 = 1 << UInt64(pin)
        switch high {
        case nil:
            driven &= ~bit
            inputLevels &= ~bit
        case true?:
            driven |= bit
            inputLevels |= bit
        case false?:
            driven |= bit
            inputLevels &= ~bit
        }
    }

    private func word(_ offset: UInt64, _ memory: SparseMemory) -> UInt32 {
        UInt32(truncatingIfNeeded: memory.load(window.range.base + offset, bytes: 4))
    }

    /// The register's view of a pin-indexed mask.
    private func bits(_ pinMask: UInt64, _ reg: GPIORegister) -> UInt32 {
        UInt32(truncatingIfNeeded: (pinMask >> UInt64(reg.firstPin)) & reg.usedMask)
    }
}
