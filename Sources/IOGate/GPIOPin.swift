import Glibc
import IOGateCore
import IOGateProtocol

/// One GPIO pin of a granted GPIO window, driven through register operations that are safe
/// against other clients: function changes are daemon-side read-modify-writes under the window
/// lock, and output changes use the set/clear registers, which touch only the written pins.
/// On a Raspberry Pi 5 (rp1) a pin's registers span the board's `gpio`, `rio` and `pads`
/// windows; all three must be granted.
///
/// ```swift
/// let led = try gate.gpio(17)
/// try led.setFunction(.output)
/// try led.set(true)
/// ```
public struct GPIOPin: Sendable {
    /// The window holding the pin (its base is the physical address of the block).
    public let window: WindowInfo
    /// The register model of the block.
    public let layout: GPIOLayout
    /// The pin number inside the block.
    public let pin: Int

    public init(window: WindowInfo, layout: GPIOLayout, pin: Int) throws(IOGateError) {
        try layout.checkPin(pin)
        self.window = window
        self.layout = layout
        self.pin = pin
    }

    /// The function (input, output, alt0..., none) the pin has now.
    public func function(_ gate: IOGateClient) throws(IOGateError) -> PinFunction {
        try layout.function(pin: pin) { offset throws(IOGateError) in try gate.read(window.base + offset) }
    }

    /// Selects the pin's function: one atomic modify of its field (bcm, omap), or the RIO, pad and
    /// CTRL steps of `GPIOLayout.steps(selecting:pin:)` (rp1).
    public func setFunction(_ function: PinFunction, _ gate: IOGateClient) throws(IOGateError) {
        try run(layout.steps(selecting: function, pin: pin), gate)
    }

    /// Selects the pin's pull-up/down (bcm2711, rp1 pull fields; bcm2835 through GPPUD/GPPUDCLKn).
    public func setPull(_ pull: PinPull, _ gate: IOGateClient) throws(IOGateError) {
        try run(layout.steps(selecting: pull, pin: pin), gate)
    }

    /// Runs register steps in order. Several steps without a pause (rp1) go as one batch, which
    /// the daemon checks whole before running any of it, under the windows' locks: a refusal
    /// (a window not granted, a claimed line) leaves every register as it was. Steps with pauses
    /// (bcm2835's pull clocking) run one by one; the first refusal stops the rest.
    func run(_ steps: [GPIOStep], _ gate: IOGateClient) throws(IOGateError) {
        let ops: [BatchOp] = steps.compactMap { step in
            switch step {
            case .modify(let offset, let mask, let value): .modify(window.base + offset, mask: mask, value: value)
            case .write(let offset, let value): .write(window.base + offset, value)
            case .pause: nil
            }
        }
        if steps.count > 1, ops.count == steps.count {
            _ = try gate.batch(ops)
            return
        }
        for step in steps {
            switch step {
            case .modify(let offset, let mask, let value): try gate.modify(window.base + offset, mask: mask, value: value)
            case .write(let offset, let value): try gate.write(window.base + offset, value)
            case .pause(let us): usleep(UInt32(us))
            }
        }
    }

    /// The level the pin reads (GPLEVn, DATAIN).
    public func get(_ gate: IOGateClient) throws(IOGateError) -> Bool {
        let b = try layout.levelBit(pin: pin)
        return try gate.read(window.base + b.offset) & b.mask != 0
    }

    /// Drives the pin high or low through the set or clear register.
    public func set(_ high: Bool, _ gate: IOGateClient) throws(IOGateError) {
        let b = high ? try layout.setBit(pin: pin) : try layout.clearBit(pin: pin)
        try gate.write(window.base + b.offset, b.mask)
    }

    /// Inverts the pin's output; returns the new level.
    @discardableResult
    public func toggle(_ gate: IOGateClient) throws(IOGateError) -> Bool {
        if let latch = try layout.outputLatchBit(pin: pin) {
            // A readable latch (omap DATAOUT): one atomic modify flips exactly this bit.
            let old = try gate.modify(window.base + latch.offset, mask: latch.mask, value: 0)
            let high = old & latch.mask == 0
            if high { try gate.modify(window.base + latch.offset, mask: latch.mask, value: latch.mask) }
            return high
        }
        // bcm has no readable latch: the level of an output pin is its latch.
        let high = try !get(gate)
        try set(high, gate)
        return high
    }

    /// The pull-up/down setting, where the block has a readable per-pin pull field (bcm2711, rp1).
    public func pull(_ gate: IOGateClient) throws(IOGateError) -> PinPull? {
        try layout.pull(pin: pin) { offset throws(IOGateError) in try gate.read(window.base + offset) }
    }
}

extension IOGateClient {
    /// The GPIO windows granted to this client that have a supported register model, in order.
    public func gpioWindows() throws(IOGateError) -> [(WindowInfo, GPIOLayout)] {
        try windows().compactMap { w in
            guard let model = GPIOModelKind(rawValue: w.model), let layout = GPIOLayout(model: model, pins: Int(w.pins)) else { return nil }
            return (w, layout)
        }
    }

    /// A pin by number: `17` counts across the granted GPIO banks in order (so AM335x pin 49 is
    /// gpio1 line 17, as Linux numbers them); `"gpio1:17"` names the bank explicitly.
    public func gpio(_ spec: String) throws(IOGateError) -> GPIOPin {
        let banks = try gpioWindows()
        guard !banks.isEmpty else {
            throw IOGateError(.notFound, "no GPIO window with a supported register model (bcm2835, bcm2711, rp1, omap) is granted to you")
        }
        let parts = spec.split(separator: ":", maxSplits: 1)
        if parts.count == 2 {
            guard let pin = Int(parts[1]) else { throw IOGateError(.malformed, "pin '\(parts[1])' in '\(spec)' is not a number") }
            guard let bank = banks.first(where: { $0.0.name == parts[0] }) else {
                throw IOGateError(
                    .notFound,
                    "no GPIO window '\(parts[0])' is granted to you; GPIO windows: \(banks.map(\.0.name).joined(separator: ", "))")
            }
            return try GPIOPin(window: bank.0, layout: bank.1, pin: pin)
        }
        guard var n = Int(spec), n >= 0 else {
            throw IOGateError(.malformed, "pin '\(spec)' is not a number or BANK:PIN (e.g. 17 or gpio1:17)")
        }
        for (w, layout) in banks {
            if n < layout.pins { return try GPIOPin(window: w, layout: layout, pin: n) }
            n -= layout.pins
        }
        let total = banks.reduce(0) { $0 + $1.1.pins }
        throw IOGateError(.notFound, "pin \(spec) does not exist; the granted GPIO windows have pins 0...\(total - 1)")
    }

    /// A pin by number (see `gpio(_:)` with a string).
    public func gpio(_ pin: Int) throws(IOGateError) -> GPIOPin { try gpio(String(pin)) }
}
