import Glibc
import IOGateCore

/// One pigpio TCP connection: reads 16-byte commands, runs each through its `ClientAccess`, and
/// answers with the 16-byte reply. After NOIB the connection is also a notification stream, and
/// replies share the socket with the notifier's reports (under the handle's send lock).
final class PigpioConnection {
    let fd: Int32
    unowned let frontend: PigpioFrontend
    let executor: ClientAccess
    var pins: PigpioPinMap { frontend.pins }
    /// The in-band notification handle this connection carries, after NOIB.
    var notifyHandle: PigpioNotifier.Handle?

    init(fd: Int32, frontend: PigpioFrontend, peer: String) {
        self.fd = fd
        self.frontend = frontend
        executor = ClientAccess(daemon: frontend.daemon, client: frontend.identity, command: "pigpio:\(peer)")
    }

    /// Serves commands until the peer leaves or the daemon stops.
    func run() {
        defer { if let h = notifyHandle { frontend.notifier.close(h.slot) } }
        var buf = [UInt8](repeating: 0, count: PigpioFrame.size)
        while true {
            let ok = readExactly(fd, &buf, count: PigpioFrame.size)
            guard ok, let request = PigpioFrame(bytes: buf) else { return }
            // Extensions carry data for commands not served here; read and drop them so the
            // stream stays in step. pigpio closes the connection on an oversized one.
            if request.p3 > 0 {
                guard request.p3 <= PigpioFrame.maxExtension else { return }
                var ext = [UInt8](repeating: 0, count: Int(request.p3))
                guard readExactly(fd, &ext, count: Int(request.p3)) else { return }
            }
            executor.refreshIfPolicyChanged()
            let reply = handle(request)
            frontend.daemon.accessLog.drainTrace()
            let bytes = reply.bytes
            let sent: Bool
            if let h = notifyHandle {
                sent = h.send(bytes)
            } else {
                sent = writeAll(fd, bytes)
            }
            if !sent { return }
        }
    }

    /// Runs one command and builds its reply.
    func handle(_ r: PigpioFrame) -> PigpioFrame {
        guard let command = r.knownCommand else { return r.reply(PigpioStatus.unknownCommand) }
        switch command {
        case .modes: return r.reply(setMode(Int(clamping: r.p1), r.p2))
        case .modeg: return r.reply(getMode(Int(clamping: r.p1)))
        case .pud: return r.reply(setPull(Int(clamping: r.p1), r.p2))
        case .read: return r.reply(readPin(Int(clamping: r.p1)))
        case .write: return r.reply(writePin(Int(clamping: r.p1), r.p2))
        case .br1, .br2:
            guard let word = readBank(command == .br1 ? 0 : 1) else { return r.reply(PigpioStatus.notPermitted) }
            return r.reply(unsigned: word)
        case .bc1, .bc2: return r.reply(writeBank(command == .bc1 ? 0 : 1, .outputClear, r.p1))
        case .bs1, .bs2: return r.reply(writeBank(command == .bs1 ? 0 : 1, .outputSet, r.p1))
        case .tick: return r.reply(unsigned: UInt32(truncatingIfNeeded: monotonicNanoseconds() / 1000))
        case .hwver: return r.reply(unsigned: frontend.revision)
        case .pigpv: return r.reply(unsigned: PigpioRevision.version)
        case .fg, .fn:
            // Only "no filter" is served; pigpio filters in its sampling thread, which IOGate lacks.
            guard pins.locate(Int(clamping: r.p1)) != nil else { return r.reply(PigpioStatus.badGPIO) }
            return r.reply(r.p2 == 0 ? 0 : PigpioStatus.badFilter)
        case .noib:
            guard notifyHandle == nil else { return r.reply(PigpioStatus.noHandle) }
            guard let h = frontend.notifier.open(fd: fd) else { return r.reply(PigpioStatus.noHandle) }
            notifyHandle = h
            return r.reply(Int32(h.slot))
        case .nb: return r.reply(frontend.notifier.begin(Int(clamping: r.p1), bits: r.p2, executor: executor))
        case .np: return r.reply(frontend.notifier.begin(Int(clamping: r.p1), bits: 0, executor: executor))
        case .nc:
            let status = frontend.notifier.close(Int(clamping: r.p1))
            if notifyHandle?.slot == Int(clamping: r.p1) { notifyHandle = nil }
            return r.reply(status)
        case .wvbsy:
            // Status queries about features IOGate lacks answer pigpio's idle values, so a stock
            // client's `while (wave_tx_busy(pi))` loop ends; commands that would act keep -88.
            return r.reply(0)
        case .wvtat: return r.reply(PigpioStatus.noTxWave)
        case .no:
            // Pipe notifications need /dev/pigpioN FIFOs, which IOGate does not create.
            return r.reply(PigpioStatus.noHandle)
        }
    }

    /// Runs an executor operation; a refusal (or any failure of the access) becomes PI_NOT_PERMITTED.
    func permitted(_ body: () throws(IOGateError) -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            return PigpioStatus.notPermitted
        }
    }

    /// True when the pin's bits in every register that controls it (function select, set, clear;
    /// on rp1 also RIO OE and the pad) are writable: a whole grant of them or a pin grant of `pin`.
    func writable(_ pin: Int) -> Bool {
        guard let regs = pins.controlBits(pin) else { return false }
        return regs.allSatisfy { executor.allows($0.address, bits: $0.mask) }
    }

    func setMode(_ pin: Int, _ mode: UInt32) -> Int32 {
        guard let (block, local) = pins.locate(pin) else { return PigpioStatus.badGPIO }
        guard let function = PigpioMode.function(mode), let steps = try? block.layout.steps(selecting: function, pin: local) else {
            return PigpioStatus.badMode
        }
        guard writable(pin) else { return PigpioStatus.notPermitted }
        return run(steps, block)
    }

    func getMode(_ pin: Int) -> Int32 {
        guard let (block, local) = pins.locate(pin) else { return PigpioStatus.badGPIO }
        do {
            let base = block.window.range.base
            let function = try block.layout.function(pin: local) { offset throws(IOGateError) in try executor.read(base + offset, .word) }
            return Int32(PigpioMode.mode(function))
        } catch {
            return PigpioStatus.notPermitted
        }
    }

    func setPull(_ pin: Int, _ pud: UInt32) -> Int32 {
        guard let (block, local) = pins.locate(pin) else { return PigpioStatus.badGPIO }
        guard let pull = PigpioMode.pull(pud), let steps = try? block.layout.steps(selecting: pull, pin: local) else {
            return PigpioStatus.badPUD
        }
        guard writable(pin) else { return PigpioStatus.notPermitted }
        return run(steps, block)
    }

    /// Runs a pin's register steps through the executor; the first refusal stops the rest.
    func run(_ steps: [GPIOStep], _ block: PigpioPinMap.Block) -> Int32 {
        let base = block.window.range.base
        return permitted { () throws(IOGateError) in
            for step in steps {
                switch step {
                case .modify(let offset, let mask, let value): _ = try executor.modify(base + offset, .word, mask: mask, value: value)
                case .write(let offset, let value): try executor.write(base + offset, .word, [value])
                case .pause(let us): usleep(UInt32(us))
                }
            }
        }
    }

    func readPin(_ pin: Int) -> Int32 {
        guard let b = pins.bit(.level, pin) else { return PigpioStatus.badGPIO }
        do { return try executor.read(b.address, .word) & b.mask != 0 ? 1 : 0 } catch { return PigpioStatus.notPermitted }
    }

    /// pigpio's gpioWrite: drive the level first (no glitch), then make the pin an output.
    func writePin(_ pin: Int, _ level: UInt32) -> Int32 {
        guard let (block, local) = pins.locate(pin), let b = pins.bit(level == 0 ? .outputClear : .outputSet, pin) else {
            return PigpioStatus.badGPIO
        }
        guard level <= 1 else { return PigpioStatus.badLevel }
        guard writable(pin), let output = try? block.layout.steps(selecting: .output, pin: local) else { return PigpioStatus.notPermitted }
        let status = permitted { () throws(IOGateError) in try executor.write(b.address, .word, [b.mask]) }
        guard status == 0 else { return status }
        return getMode(pin) == Int32(PigpioMode.mode(.output)) ? 0 : run(output, block)
    }

    /// BR1/BR2: the bank's levels; nil when a level register is refused.
    func readBank(_ bank: Int) -> UInt32? {
        let levels = pins.bankLevels(bank: bank)
        var registers: [UInt64: UInt64] = [:]
        do {
            for a in Set(levels.map(\.address)).sorted() { registers[a] = try executor.read(a, .word) }
        } catch {
            return nil
        }
        return PigpioPinMap.bankWord(levels, registers: registers)
    }

    /// BC1/BC2/BS1/BS2, as pigpiod's gpioWrite_Bits_*: the bits of pins the client may write are
    /// written and, when the mask also names others, the answer is PI_SOME_PERMITTED (-42) (pigpiod
    /// does the same with its update mask, which by default is the header's user GPIOs). A bit
    /// naming a pin the board lacks refuses the whole command (PI_NOT_PERMITTED), writing nothing.
    func writeBank(_ bank: Int, _ kind: GPIORegisterKind, _ bits: UInt32) -> Int32 {
        guard case .success = pins.bankWrites(kind, bank: bank, bits: bits) else { return PigpioStatus.notPermitted }
        var allowed: UInt32 = 0
        var rest = bits
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            if writable(bank * 32 + i) { allowed |= 1 << UInt32(i) }
        }
        guard allowed != 0, case .success(let writes) = pins.bankWrites(kind, bank: bank, bits: allowed) else {
            return bits == 0 ? 0 : PigpioStatus.somePermitted
        }
        let status = permitted { () throws(IOGateError) in
            for w in writes { try executor.write(w.address, .word, [w.mask]) }
        }
        return status == 0 && allowed != bits ? PigpioStatus.somePermitted : status
    }
}
