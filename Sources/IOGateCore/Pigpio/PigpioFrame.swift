/// One pigpio socket request or reply: four little-endian 32-bit words.
///
/// A request is `cmd, p1, p2, p3` where p3 is the byte length of an extension that follows;
/// the reply echoes `cmd, p1, p2` and carries the result (a `PigpioStatus` when negative) in the
/// last word. Facts from pigpio's `pigpio.c` (the socket thread) and `pigpio.py` (`_pigpio_command`).
public struct PigpioFrame: Hashable, Sendable {
    /// The byte size of a request or reply.
    public static let size = 16
    /// The most extension bytes pigpio accepts (`CMD_MAX_EXTENSION` in `command.h` is 1 << 16,
    /// and the buffer keeps one byte for a terminator).
    public static let maxExtension: UInt32 = (1 << 16) - 1

    /// The command code (see `PigpioCommand`).
    public var command: UInt32
    /// First parameter.
    public var p1: UInt32
    /// Second parameter.
    public var p2: UInt32
    /// Extension length in a request; the result in a reply.
    public var p3: UInt32

    /// Creates a frame.
    public init(command: UInt32, p1: UInt32 = 0, p2: UInt32 = 0, p3: UInt32 = 0) {
        self.command = command
        self.p1 = p1
        self.p2 = p2
        self.p3 = p3
    }

    /// Decodes the first 16 bytes of `bytes`; nil when fewer are given.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count >= PigpioFrame.size else { return nil }
        var words: [UInt32] = []
        var i = bytes.startIndex
        for _ in 0..<4 {
            var w: UInt32 = 0
            for shift in stride(from: 0, to: 32, by: 8) {
                w |= UInt32(bytes[i]) << UInt32(shift)
                i = bytes.index(after: i)
            }
            words.append(w)
        }
        self.init(command: words[0], p1: words[1], p2: words[2], p3: words[3])
    }

    /// The known command, or nil.
    public var knownCommand: PigpioCommand? { PigpioCommand(rawValue: command) }

    /// The reply to this request: `cmd, p1, p2` echoed and `result` (two's complement) in the last word.
    public func reply(_ result: Int32) -> PigpioFrame {
        PigpioFrame(command: command, p1: p1, p2: p2, p3: UInt32(bitPattern: result))
    }

    /// The reply to this request carrying an unsigned result (levels, ticks, revision).
    public func reply(unsigned result: UInt32) -> PigpioFrame {
        PigpioFrame(command: command, p1: p1, p2: p2, p3: result)
    }

    /// The 16 little-endian bytes.
    public var bytes: [UInt8] {
        [command, p1, p2, p3].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> UInt32(8 * $0)) } }
    }
}

/// A level report on a notification stream: 12 bytes, `seqno` (u16), `flags` (u16), `tick` (u32),
/// `level` (u32, the levels of pins 0-31), little-endian (`gpioReport_t` in `pigpio.h`).
public struct PigpioReport: Hashable, Sendable {
    /// The byte size of a report.
    public static let size = 12

    public var sequence: UInt16
    public var flags: UInt16
    public var tick: UInt32
    public var level: UInt32

    /// Creates a report.
    public init(sequence: UInt16, flags: UInt16 = 0, tick: UInt32, level: UInt32) {
        self.sequence = sequence
        self.flags = flags
        self.tick = tick
        self.level = level
    }

    /// The 12 little-endian bytes.
    public var bytes: [UInt8] {
        func le(_ v: UInt32, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }
        return le(UInt32(sequence), 2) + le(UInt32(flags), 2) + le(tick, 4) + le(level, 4)
    }
}

/// Hardware revision codes answered to HWVER, per board id, as the Raspberry Pi firmware reports
/// them in `/proc/cpuinfo` "Revision" (the code table in gpiozero's `pins/data.py` and the
/// Raspberry Pi documentation's revision-code list). Each board file covers a family, so one
/// plausible member is chosen: rpi1 0x0010 (1 B+), rpi2 0xa01041 (2 B, Sony), rpi3 0xa02082
/// (3 B, Sony), rpi4 0xc03111 (4 B 4 GB rev 1.1, Sony), rpi5 0xd04170 (5 8 GB). Other boards: 0,
/// which is what pigpio answers when it cannot tell.
public enum PigpioRevision {
    /// The revision code for a board id.
    public static func code(boardID: String) -> UInt32 {
        switch boardID {
        case "rpi1": 0x0010
        case "rpi2": 0xa0_1041
        case "rpi3": 0xa0_2082
        case "rpi4": 0xc0_3111
        case "rpi5": 0xd0_4170
        default: 0
        }
    }

    /// The pigpio version this frontend reports to PIGPV (pigpio 79, whose protocol it follows).
    public static let version: UInt32 = 79
}
