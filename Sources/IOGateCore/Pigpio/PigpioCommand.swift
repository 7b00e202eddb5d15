/// pigpio's socket command codes, as numbered by `PI_CMD_*` in pigpio's `pigpio.h` (version 79).
///
/// Only the codes the IOGate frontend serves, and a few it names in refusals, are listed; any other
/// code decodes to `nil` and is answered with `PigpioStatus.unknownCommand`.
public enum PigpioCommand: UInt32, CaseIterable, Sendable {
    /// Set a pin's mode (p1 pin, p2 mode 0...7).
    case modes = 0
    /// Get a pin's mode (p1 pin).
    case modeg = 1
    /// Set a pin's pull (p1 pin, p2 0 off, 1 down, 2 up).
    case pud = 2
    /// Read a pin's level (p1 pin).
    case read = 3
    /// Write a pin's level (p1 pin, p2 0 or 1); also makes the pin an output.
    case write = 4
    /// Read the levels of pins 0-31.
    case br1 = 10
    /// Read the levels of pins 32-53.
    case br2 = 11
    /// Clear the pins 0-31 whose bits are set in p1.
    case bc1 = 12
    /// Clear the pins 32-53 whose bits are set in p1.
    case bc2 = 13
    /// Set the pins 0-31 whose bits are set in p1.
    case bs1 = 14
    /// Set the pins 32-53 whose bits are set in p1.
    case bs2 = 15
    /// Microseconds since some moment, wrapping at 2^32.
    case tick = 16
    /// The board's hardware revision code.
    case hwver = 17
    /// Open a pipe notification handle (`/dev/pigpioN`; not served: no handle).
    case no = 18
    /// Set the pins a notification handle reports (p1 handle, p2 bits of pins 0-31).
    case nb = 19
    /// Pause a notification handle.
    case np = 20
    /// Close a notification handle (p1 handle).
    case nc = 21
    /// The pigpio version.
    case pigpv = 26
    /// Whether a waveform is being transmitted (answered 0: IOGate never transmits one).
    case wvbsy = 32
    /// Glitch filter (p1 pin, p2 microseconds; only 0, no filter, is served).
    case fg = 97
    /// Noise filter (p1 pin, p2 steady, extension active; only 0 is served).
    case fn = 98
    /// Turn this connection into an in-band notification stream; answers the handle.
    case noib = 99
    /// The id of the waveform being transmitted (answered `PI_NO_TX_WAVE`: none ever is).
    case wvtat = 101
}

/// pigpio's result codes (`PI_*` error numbers in `pigpio.h`); 0 or a positive value is success.
public enum PigpioStatus {
    /// PI_BAD_GPIO: pin not 0-53 (here: not a pin of the board's GPIO blocks).
    public static let badGPIO: Int32 = -3
    /// PI_BAD_MODE: mode not 0-7 (or not one the block has: omap has only input and output).
    public static let badMode: Int32 = -4
    /// PI_BAD_LEVEL: level not 0-1.
    public static let badLevel: Int32 = -5
    /// PI_BAD_PUD: pull not 0-2, or the block has no pull registers.
    public static let badPUD: Int32 = -6
    /// PI_NO_HANDLE: no notification handle available.
    public static let noHandle: Int32 = -24
    /// PI_BAD_HANDLE: unknown notification handle.
    public static let badHandle: Int32 = -25
    /// PI_NOT_PERMITTED: the policy refused the operation.
    public static let notPermitted: Int32 = -41
    /// PI_SOME_PERMITTED: a bank write named pins the client may not write (the others were written).
    public static let somePermitted: Int32 = -42
    /// PI_UNKNOWN_COMMAND.
    public static let unknownCommand: Int32 = -88
    /// PI_NO_TX_WAVE: what `wave_tx_at` answers when no waveform is being transmitted (a
    /// positive value: it is an answer, not an error).
    public static let noTxWave: Int32 = 9999
    /// PI_BAD_FILTER: filter parameter not served.
    public static let badFilter: Int32 = -125
}

/// pigpio pin modes (`PI_INPUT`, `PI_OUTPUT`, `PI_ALT0`...): numerically the BCM283x GPFSEL codes.
public enum PigpioMode {
    /// The function a pigpio mode number selects, or nil for a number above 7.
    public static func function(_ mode: UInt32) -> PinFunction? {
        switch mode {
        case 0: .input
        case 1: .output
        case 4...7: .alt(Int(mode) - 4)
        case 3: .alt(4)
        case 2: .alt(5)
        default: nil
        }
    }

    /// The pigpio mode number of a function. pigpio knows ALT0-ALT5 only: a pin with no function
    /// (rp1 `none`, its reset state: the pad's input buffer stays enabled) reads as PI_INPUT, and
    /// RP1's a6-a8 read as PI_ALT5, the number RP1 has no other use for (its a5 is the GPIO itself).
    public static func mode(_ function: PinFunction) -> UInt32 {
        switch function {
        case .input, .none: 0
        case .output: 1
        case .alt(let n): n <= 3 ? UInt32(4 + n) : n == 4 ? 3 : 2
        }
    }

    /// The pull a pigpio `PI_PUD_*` number selects (0 off, 1 down, 2 up), or nil.
    public static func pull(_ pud: UInt32) -> PinPull? {
        switch pud {
        case 0: PinPull.none
        case 1: .down
        case 2: .up
        default: nil
        }
    }
}
