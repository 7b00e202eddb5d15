/// One register access of a pin operation, at an offset from the GPIO window's base.
public enum GPIOStep: Hashable, Sendable, CustomStringConvertible {
    /// An atomic read-modify-write of a 32-bit register: the bits of `mask` become those of `value`.
    case modify(offset: UInt64, mask: UInt64, value: UInt64)
    /// A 32-bit store, to a register where only the bits written as 1 act (set/clear registers and
    /// aliases, GPPUD/GPPUDCLKn).
    case write(offset: UInt64, value: UInt64)
    /// Wait at least this long before the next step (bcm2835's pull clocking).
    case pause(microseconds: Int)

    /// The register the step accesses; nil for a pause.
    public var offset: UInt64? {
        switch self {
        case .modify(let offset, _, _), .write(let offset, _): offset
        case .pause: nil
        }
    }

    /// Renders as `modify 0x4 mask 0x00E00000 value 0x00200000`, `write 0x1C 0x00020000`, `pause 2 us`.
    public var description: String {
        switch self {
        case .modify(let o, let m, let v): "modify \(hex(o)) mask \(hex(m, digits: 8)) value \(hex(v, digits: 8))"
        case .write(let o, let v): "write \(hex(o)) \(hex(v, digits: 8))"
        case .pause(let us): "pause \(us) us"
        }
    }
}

extension GPIOLayout {
    /// The register accesses that give `pin` the function `function`, in order. Run them in order;
    /// each is safe against other clients on its own (a modify of one field, or a set/clear store).
    /// - bcm2835, bcm2711, omap: one modify of the function field.
    /// - rp1, as pinctrl-rp1.c's `rp1_gpio_direction_output`/`_input` and `rp1_set_fsel` do it: RIO
    ///   OE set (output) or cleared (input) through its alias, the pad's input enabled and output
    ///   not disabled, then CTRL FUNCSEL with OUTOVER and OEOVER back to "peripheral". Output sets OE
    ///   before FUNCSEL switches to RIO, and input clears it first, so the pin never glitches.
    public func steps(selecting function: PinFunction, pin: Int) throws(IOGateError) -> [GPIOStep] {
        let field = try functionField(pin: pin)
        let code = try encode(function)
        guard model == .rp1 else { return [.modify(offset: field.offset, mask: field.mask, value: field.insert(code, into: 0))] }
        let ctrlMask = Rp1.funcsel.mask | Rp1.outOver.mask | Rp1.oeOver.mask
        let ctrl = GPIOStep.modify(offset: field.offset, mask: ctrlMask, value: code)
        let pad = GPIOStep.modify(
            offset: Rp1.pad(pin), mask: Rp1.padInputEnable | Rp1.padOutputDisable, value: Rp1.padInputEnable)
        switch function {
        case .output:
            let oe = Rp1.rioBit(pin, Rp1.rioOE, .set)
            return [.write(offset: oe.offset, value: oe.mask), pad, ctrl]
        case .input:
            let oe = Rp1.rioBit(pin, Rp1.rioOE, .clear)
            return [.write(offset: oe.offset, value: oe.mask), pad, ctrl]
        case .alt, .none:
            return [pad, ctrl]
        }
    }

    /// The function `pin` has, from the registers `read` returns (given an offset from the window
    /// base; it is asked for one or two registers). `pin` must be a pin of the block (`checkPin`).
    /// On rp1, as pinctrl-rp1.c's `rp1_get_fsel`: an OEOVER other than "peripheral" or a FUNCSEL
    /// past a8 is `none`; FUNCSEL 5 is `output` when the pin's RIO OE bit is set, else `input`.
    public func function<E: Error>(pin: Int, read: (UInt64) throws(E) -> UInt64) throws(E) -> PinFunction {
        guard let field = try? functionField(pin: pin) else { return .none }
        let value = try read(field.offset)
        guard model == .rp1 else { return decode(fieldValue: field.extract(from: value)) }
        guard Rp1.oeOver.extract(from: value) == 0 else { return .none }
        let function = decode(fieldValue: Rp1.funcsel.extract(from: value))
        guard function == .input else { return function }
        let oe = Rp1.rioBit(pin, Rp1.rioOE)
        return try read(oe.offset) & oe.mask != 0 ? .output : .input
    }

    /// The register accesses that give `pin` the pull `pull`: one modify of its pull field on
    /// bcm2711 and rp1; on bcm2835 the GPPUD/GPPUDCLKn sequence of pinctrl-bcm2835.c's
    /// `bcm2835_pull_config_set` (code to GPPUD, wait, clock the pin in, wait, clear both; the
    /// driver waits 150 cycles, 2 us is more than that at any clock). Throws on omap.
    public func steps(selecting pull: PinPull, pin: Int) throws(IOGateError) -> [GPIOStep] {
        try checkPin(pin)
        let code = try encodePull(pull)
        if let field = try pullField(pin: pin) {
            return [.modify(offset: field.offset, mask: field.mask, value: field.insert(code, into: 0))]
        }
        guard let control = registers.first(where: { $0.kind == .pullControl }),
            let clock = registers.first(where: { $0.kind == .pullClock && $0.pins.contains(pin) })
        else { throw IOGateError(.notFound, "a \(model.rawValue) GPIO block has no pull registers") }
        let bit = UInt64(1) << UInt64(pin - clock.firstPin)
        return [
            .write(offset: control.offset, value: code), .pause(microseconds: 2), .write(offset: clock.offset, value: bit),
            .pause(microseconds: 2), .write(offset: control.offset, value: 0), .write(offset: clock.offset, value: 0),
        ]
    }

    /// The pull `pin` has, where the block has a readable per-pin pull field (bcm2711, rp1); nil
    /// on bcm2835, whose GPPUD latch cannot be read back, and on omap.
    public func pull<E: Error>(pin: Int, read: (UInt64) throws(E) -> UInt64) throws(E) -> PinPull? {
        guard let field = (try? pullField(pin: pin)) ?? nil else { return nil }
        return decodePull(fieldValue: field.extract(from: try read(field.offset)))
    }

    /// The offsets of every register that making `pin` an input or output and driving it writes:
    /// what a client must be granted read-write to use the pin as a GPIO.
    public func controlOffsets(pin: Int) throws(IOGateError) -> [UInt64] {
        let steps = try steps(selecting: .output, pin: pin) + steps(selecting: .input, pin: pin)
        let bits = [try setBit(pin: pin).offset, try clearBit(pin: pin).offset]
        return Array(Set(steps.compactMap(\.offset) + bits)).sorted()
    }
}
