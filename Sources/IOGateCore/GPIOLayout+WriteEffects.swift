extension GPIORegisterKind {
    /// True for registers where only the bits written as 1 act (GPSETn, GPCLRn, GPPUDCLKn,
    /// SETDATAOUT, CLEARDATAOUT); writing 0 to a bit there changes nothing. Atomic aliases of any
    /// kind act on ones too (`GPIORegister.actsOnOnes`).
    public var actsOnOnes: Bool { self == .outputSet || self == .outputClear || self == .pullClock }
}

extension GPIOLayout {
    /// The pins whose function, output or pull a store at `offset` can change, for a write guard.
    ///
    /// The store replaces the bits of `mask` with those of `value`; a plain write has every bit of
    /// `width` in `mask`. A modify stores the whole register, `(current & ~mask) | (value & mask)`,
    /// so in set/clear registers (`actsOnOnes`) the bits outside `mask` act too when `current` has
    /// them set (OMAP's SETDATAOUT and CLEARDATAOUT read back DATAOUT; BCM's GPSETn read 0). Pass
    /// the register's value as `current` for a modify; nil assumes every such bit may be set.
    /// - Set/clear registers and atomic aliases (rp1): the pins of the 1 bits stored.
    /// - Field registers (GPFSELn, OE, DATAOUT, pull fields): the pins whose bits are in `mask`.
    /// - GPLEVn/DATAIN change nothing; GPPUD covers no pin (GPPUDCLKn applies it).
    public func pinsChanged(offset: UInt64, width: AccessWidth, mask: UInt64, value: UInt64, current: UInt64? = nil) -> [Int] {
        let all = width.maxValue
        let mask = mask & all
        var ones = value & mask
        if mask != all { ones |= (current ?? all) & ~mask & all }
        var pins = Set<Int>()
        forEachBit(offset: offset, mask: ones) { reg, pin in
            if reg.actsOnOnes && !reg.kind.isReadOnly, let pin { pins.insert(pin) }
        }
        forEachBit(offset: offset, mask: mask) { reg, pin in
            if !reg.actsOnOnes && !reg.kind.isReadOnly, let pin { pins.insert(pin) }
        }
        return pins.sorted()
    }
}
