/// What a pin does: a GPIO input, a GPIO output, or one of the SoC's alternate functions.
public enum PinFunction: Hashable, Sendable, LosslessStringConvertible {
    case input
    case output
    /// Alternate function `n` (BCM283x/BCM2711 have alt0...alt5).
    case alt(Int)

    /// Every function that `init?(_:)` parses, in order: in, out, alt0...alt5.
    public static let allNamed: [PinFunction] = [.input, .output] + (0...5).map { .alt($0) }

    /// Parses `in`, `out` or `alt0`...`alt5`.
    public init?(_ description: String) {
        switch description {
        case "in": self = .input
        case "out": self = .output
        default:
            guard description.hasPrefix("alt"), description.count == 4, let n = Int(description.dropFirst(3)),
                (0...5).contains(n)
            else { return nil }
            self = .alt(n)
        }
    }

    /// `in`, `out` or `altN`, the words `init?(_:)` parses.
    public var description: String {
        switch self {
        case .input: "in"
        case .output: "out"
        case .alt(let n): "alt\(n)"
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

    /// The functions this model can select, in the order `in`, `out`, `alt0`...
    public var functions: [PinFunction] {
        model == .omap ? [.input, .output] : PinFunction.allNamed
    }

    /// The value of `functionField(pin:)` that selects `function`; throws naming the allowed
    /// functions when the model has no such function (omap only has `in` and `out`: its pin muxing
    /// lives in the control module, outside the GPIO block).
    public func encode(_ function: PinFunction) throws(IOGateError) -> UInt64 {
        if model == .omap {
            switch function {
            case .input: return 1  // OE bit set = output driver disabled
            case .output: return 0
            case .alt: break
            }
        } else if let code = GPIOLayout.bcmFunctionCodes[function] {
            return code
        }
        let allowed = functions.map(\.description).joined(separator: ", ")
        throw IOGateError(.notFound, "function \(function) does not exist on a \(model.rawValue) GPIO block; allowed: \(allowed)")
    }

    /// The function a `functionField(pin:)` value selects; bits above the field's width are ignored.
    public func decode(fieldValue: UInt64) -> PinFunction {
        if model == .omap { return fieldValue & 1 == 1 ? .input : .output }
        let code = fieldValue & 0b111
        // Every 3-bit code names a function, so the lookup cannot miss.
        return GPIOLayout.bcmFunctionCodes.first { $0.value == code }?.key ?? .input
    }

    /// The pull code for `pull`: the value of `pullField(pin:)` on bcm2711 (BCM2711_PULL_*: none 0,
    /// up 1, down 2) or of GPPUD on bcm2835 (BCM2835_PINCONFIG_PULL_*: none 0, down 1, up 2).
    /// Throws on omap, whose pulls are in the control module's pad registers.
    public func encodePull(_ pull: PinPull) throws(IOGateError) -> UInt64 {
        switch (model, pull) {
        case (.bcm2711, .none), (.bcm2835, .none): return 0
        case (.bcm2711, .up), (.bcm2835, .down): return 1
        case (.bcm2711, .down), (.bcm2835, .up): return 2
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
