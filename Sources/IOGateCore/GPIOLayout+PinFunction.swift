/// What a pin does: a GPIO input, a GPIO output, one of the SoC's alternate functions, or (rp1)
/// nothing at all.
public enum PinFunction: Hashable, Sendable, LosslessStringConvertible {
    case input
    case output
    /// Alternate function `n`: BCM283x/BCM2711 have alt0...alt5, RP1 a0...a8 (its a5 is the GPIO
    /// function itself, so it is `input` or `output` here).
    case alt(Int)
    /// No function: the pad is not connected to any peripheral (rp1 FUNCSEL 0x1f, its reset state).
    case none

    /// Every function that `init?(_:)` parses, in order: in, out, alt0...alt8, none.
    public static let allNamed: [PinFunction] = [.input, .output] + (0...8).map { .alt($0) } + [.none]

    /// Parses `in`, `out`, `alt0`...`alt8` or `none`.
    public init?(_ description: String) {
        switch description {
        case "in": self = .input
        case "out": self = .output
        case "none": self = .none
        default:
            guard description.hasPrefix("alt"), description.count == 4, let n = Int(description.dropFirst(3)),
                (0...8).contains(n)
            else { return nil }
            self = .alt(n)
        }
    }

    /// `in`, `out`, `altN` or `none`, the words `init?(_:)` parses.
    public var description: String {
        switch self {
        case .input: "in"
        case .output: "out"
        case .alt(let n): "alt\(n)"
        case .none: "none"
        }
    }
}

/// A pin's pull resistor.
public enum PinPull: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case none
    case up
    case down

    /// `none`, `up` or `down`.
    public var description: String { rawValue }
}

extension GPIOLayout {
    /// BCM2835_FSEL_*: the 3-bit GPFSEL code of each function; note alt4 = 3 and alt5 = 2.
    private static let bcmFunctionCodes: [PinFunction: UInt64] = [
        .input: 0b000, .output: 0b001, .alt(0): 0b100, .alt(1): 0b101, .alt(2): 0b110, .alt(3): 0b111,
        .alt(4): 0b011, .alt(5): 0b010,
    ]

    /// The functions this model can select, in the order `in`, `out`, `alt0`..., `none`.
    public var functions: [PinFunction] {
        switch model {
        case .omap: [.input, .output]
        case .rp1: [.input, .output] + [0, 1, 2, 3, 4, 6, 7, 8].map { .alt($0) } + [.none]
        default: [.input, .output] + (0...5).map { .alt($0) }
        }
    }

    /// The value of `functionField(pin:)` that selects `function`; throws naming the allowed
    /// functions when the model has no such function (omap only has `in` and `out`: its pin muxing
    /// lives in the control module, outside the GPIO block). On rp1, `in` and `out` are both
    /// FUNCSEL 5 (RIO); RIO OE tells them apart (`steps(selecting:pin:)` sets both).
    public func encode(_ function: PinFunction) throws(IOGateError) -> UInt64 {
        switch (model, function) {
        case (.omap, .input): return 1  // OE bit set = output driver disabled
        case (.omap, .output): return 0
        case (.omap, _): break
        case (.rp1, .input), (.rp1, .output): return Rp1.funcselGPIO
        case (.rp1, .none): return Rp1.funcselNone
        case (.rp1, .alt(let n)) where functions.contains(function): return UInt64(n)
        case (.rp1, _): break
        default:
            if let code = GPIOLayout.bcmFunctionCodes[function] { return code }
        }
        let allowed = functions.map(\.description).joined(separator: ", ")
        let why = model == .rp1 && function == .alt(5) ? " (RP1's a5 is the GPIO function: use in or out)" : ""
        throw IOGateError(
            .notFound, "function \(function) does not exist on a \(model.rawValue) GPIO block\(why); allowed: \(allowed)")
    }

    /// The function a `functionField(pin:)` value selects; bits above the field's width are ignored.
    /// On rp1 a FUNCSEL of 5 reads as `input` (RIO OE decides: use `function(pin:read:)`).
    public func decode(fieldValue: UInt64) -> PinFunction {
        switch model {
        case .omap: return fieldValue & 1 == 1 ? .input : .output
        case .rp1:
            let code = fieldValue & 0x1f
            return code == Rp1.funcselGPIO ? .input : code < Rp1.funcselCount ? .alt(Int(code)) : .none
        default:
            let code = fieldValue & 0b111
            // Every 3-bit code names a function, so the lookup cannot miss.
            return GPIOLayout.bcmFunctionCodes.first { $0.value == code }?.key ?? .input
        }
    }

    /// The pull code for `pull`: the value of `pullField(pin:)` on bcm2711 (BCM2711_PULL_*: none 0,
    /// up 1, down 2) and rp1 (RP1_PUD_*: off 0, down 1, up 2), or of GPPUD on bcm2835
    /// (BCM2835_PINCONFIG_PULL_*: none 0, down 1, up 2). Throws on omap, whose pulls are in the
    /// control module's pad registers.
    public func encodePull(_ pull: PinPull) throws(IOGateError) -> UInt64 {
        switch (model, pull) {
        case (.bcm2711, .none), (.bcm2835, .none), (.rp1, .none): return 0
        case (.bcm2711, .up), (.bcm2835, .down), (.rp1, .down): return 1
        case (.bcm2711, .down), (.bcm2835, .up), (.rp1, .up): return 2
        default:
            throw IOGateError(
                .notFound, "a \(model.rawValue) GPIO block has no pull registers; pulls are set in the SoC's pad control registers")
        }
    }

    /// The pull a code selects (see `encodePull(_:)`); nil for the reserved code 3 and on omap.
    public func decodePull(fieldValue: UInt64) -> PinPull? {
        PinPull.allCases.first { (try? encodePull($0)) == fieldValue & 0b11 }
    }
}
