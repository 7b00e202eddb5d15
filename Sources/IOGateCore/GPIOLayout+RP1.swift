/// The RP1 (Raspberry Pi 5) GPIO block. Its pins span three register blocks, which the kernel's
/// device tree gives as the three `reg` entries of one node, `pinctrl@400d0000` in
/// arch/arm64/boot/dts/broadcom/rp1-common.dtsi (torvalds/linux): IO_BANK0..2 at 0x400d0000,
/// SYS_RIO0..2 at 0x400e0000 and PADS_BANK0..2 at 0x400f0000, each 0xc000 long. A layout's offsets
/// are counted from the IO_BANK base (the board's `gpio` window), so RIO registers sit at 0x10000
/// and up and pad registers at 0x20000 and up, inside the board's `rio` and `pads` windows. A
/// client must be granted all three windows to drive a pin.
///
/// Register figures from drivers/pinctrl/pinctrl-rp1.c (torvalds/linux):
/// - `rp1_iobanks`: bank 0 is pins 0-27, bank 1 pins 28-33, bank 2 pins 34-53, at offsets 0x0000,
///   0x4000 and 0x8000 of each block; a register bit or slot per pin counts from the bank's first pin.
/// - `rp1_gpio_fields`: pin n of a bank has STATUS at bank + 8n and CTRL at bank + 8n + 4, with
///   FUNCSEL in bits 0-4, OUTOVER 12-13 and OEOVER 14-15.
/// - `rp1_rio_fields`: OUT at +0x0, OE at +0x4 and IN at +0x8 of the bank's RIO registers, one bit
///   per pin; the driver drives them through the set (+0x2000) and clear (+0x3000) aliases.
/// - `rp1_pad_fields`: the pad register of pin n is at pads bank + 4 + 4n: SLEWFAST bit 0,
///   SCHMITT 1, PULL 2-3 (RP1_PUD_OFF 0, DOWN 1, UP 2), DRIVE 4-5, IN_ENABLE 6, OUT_DISABLE 7.
/// - RP1_FSEL_GPIO 5 (the RIO function), RP1_FSEL_COUNT 9 (a0...a8), RP1_FSEL_NONE_HW 0x1f.
enum Rp1 {
    /// (first pin, pin count, offset) of each bank.
    static let banks: [(first: Int, count: Int, offset: UInt64)] = [(0, 28, 0x0000), (28, 6, 0x4000), (34, 20, 0x8000)]
    /// RP1_NUM_GPIOS.
    static let pins = 54
    /// SYS_RIO and PADS blocks, from the IO_BANK base.
    static let rio: UInt64 = 0x1_0000
    static let pads: UInt64 = 0x2_0000
    /// RIO registers, from the bank's RIO offset.
    static let rioOut: UInt64 = 0x0
    static let rioOE: UInt64 = 0x4
    static let rioIn: UInt64 = 0x8
    /// FUNCSEL codes.
    static let funcselGPIO: UInt64 = 5
    static let funcselNone: UInt64 = 0x1f
    static let funcselCount: UInt64 = 9
    /// CTRL fields.
    static let funcsel = RegisterField(offset: 0, shift: 0, width: 5)
    static let outOver = RegisterField(offset: 0, shift: 12, width: 2)
    static let oeOver = RegisterField(offset: 0, shift: 14, width: 2)
    /// Pad bits.
    static let padPull = RegisterField(offset: 0, shift: 2, width: 2)
    static let padInputEnable: UInt64 = 1 << 6
    static let padOutputDisable: UInt64 = 1 << 7

    /// The bank holding `pin` (its number and offset) and the pin's line in it; `pin` must be in 0..<54.
    static func bank(of pin: Int) -> (index: Int, offset: UInt64, line: Int) {
        let i = banks.lastIndex { $0.first <= pin }!
        return (i, banks[i].offset, pin - banks[i].first)
    }

    /// Offset of the pin's CTRL register.
    static func ctrl(_ pin: Int) -> UInt64 {
        let b = bank(of: pin)
        return b.offset + 8 * UInt64(b.line) + 4
    }

    /// Offset of the pin's pad register.
    static func pad(_ pin: Int) -> UInt64 {
        let b = bank(of: pin)
        return pads + b.offset + 4 + 4 * UInt64(b.line)
    }

    /// The pin's bit in the RIO register at `register` (`rioOut`, `rioOE`, `rioIn`), optionally
    /// through an atomic alias.
    static func rioBit(_ pin: Int, _ register: UInt64, _ alias: GPIORegisterAlias? = nil) -> RegisterBit {
        let b = bank(of: pin)
        return RegisterBit(offset: rio + b.offset + register + (alias?.delta ?? 0), bit: b.line)
    }

    /// Every modelled register of the first `pins` pins, with their atomic aliases: CTRL and the pad
    /// register of each pin, and OUT, OE and IN of each bank. STATUS, the interrupt registers and
    /// the bank's voltage-select pad register are not modelled.
    static func registers(pins: Int) -> [GPIORegister] {
        var regs: [GPIORegister] = []
        func add(_ r: GPIORegister) { regs += [r] + GPIORegisterAlias.allCases.map { r.aliased($0) } }
        for b in banks where b.first < pins {
            let count = min(b.count, pins - b.first)
            for pin in b.first..<(b.first + count) {
                add(GPIORegister(kind: .function, offset: ctrl(pin), firstPin: pin, pinCount: 1, bitsPerPin: 32))
                add(GPIORegister(kind: .pad, offset: pad(pin), firstPin: pin, pinCount: 1, bitsPerPin: 32))
            }
            for (kind, register) in [(GPIORegisterKind.outputLatch, rioOut), (.outputEnable, rioOE), (.level, rioIn)] {
                add(GPIORegister(kind: kind, offset: rio + b.offset + register, firstPin: b.first, pinCount: count, bitsPerPin: 1))
            }
        }
        return regs
    }
}
