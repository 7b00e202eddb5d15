import Glibc
import IOGateCore
import IOGateSystem
import Synchronization

/// pigpio's in-band notifications (NOIB, NB, NP, NC): up to 32 handles, each a connection that
/// receives a 12-byte level report whenever a pin it monitors changes. IOGate has no interrupt
/// path, so one thread polls the bank-0 level registers every millisecond while any handle
/// monitors a pin, through an `ClientAccess` of the `pigpio_as` identity (each poll is checked).
// @unchecked Sendable: `handles` and `pollerRunning` are touched only under `lock`; `stopping` is
// atomic; the rest is immutable.
final class PigpioNotifier: @unchecked Sendable {
    /// One notification handle: its socket, what it monitors, and what it last reported.
    // @unchecked Sendable: `retired` changes only under `sendLock`; `monitor`, `executor` and
    // `primeLevel` only under the notifier's `lock`; the rest only on the poller thread.
    final class Handle: @unchecked Sendable {
        let slot: Int
        let fd: Int32
        let sendLock = Lock()
        /// Set, under `sendLock`, when the handle is closed or dropped: nothing is sent on `fd`
        /// after that, so a report can never reach a descriptor number the kernel has reused.
        var retired = false
        // Guarded by the notifier's lock.
        var monitor: UInt32 = 0
        var executor: ClientAccess?
        /// The level when NB last changed `monitor`, for the poller to compare against (pigpio
        /// reports changes from the level at NB, not from the poller's first look).
        var primeLevel: UInt32?
        // Used only by the poller thread.
        var lastLevel: UInt32 = 0
        var primed = false
        var sequence: UInt16 = 0

        init(slot: Int, fd: Int32) {
            self.slot = slot
            self.fd = fd
        }

        /// Sends bytes on the handle's socket; replies and reports never interleave. False once
        /// the handle is retired.
        func send(_ bytes: [UInt8]) -> Bool {
            sendLock.locked { !retired && writeAll(fd, bytes) }
        }

        /// Retires the handle; waits for a send in progress, so the caller may close `fd` after.
        func retire() { sendLock.locked { retired = true } }

        /// What the poller's send did.
        enum Outcome { case sent, busy, dropped }

        /// The poller's send: never waits. `busy` when the connection is sending a reply (try
        /// again next poll); a peer that stops reading (the report would block or go out in
        /// part) is dropped: retired and its connection shut down, so one stuck client cannot
        /// stall everyone's notifications.
        func sendWithoutWaiting(_ bytes: [UInt8]) -> Outcome {
            guard sendLock.tryLock() else { return .busy }
            defer { sendLock.unlock() }
            if retired { return .dropped }
            if Descriptor.sendWithoutWaiting(fd, bytes) { return .sent }
            retired = true
            shutdown(fd, Int32(SHUT_RDWR))  // the connection's thread sees end-of-file and closes
            return .dropped
        }
    }

    /// pigpio's `PI_NOTIFY_SLOTS`.
    static let slots = 32
    /// Poll period while something is monitored, in microseconds.
    static let pollMicroseconds: UInt32 = 1000

    unowned let daemon: Daemon
    let identity: ClientIdentity
    let pins: PigpioPinMap
    let lock = Lock()
    var handles: [Handle?] = Array(repeating: nil, count: PigpioNotifier.slots)
    var pollerRunning = false
    let stopping = Atomic<Bool>(false)

    init(daemon: Daemon, identity: ClientIdentity, pins: PigpioPinMap) {
        self.daemon = daemon
        self.identity = identity
        self.pins = pins
    }

    /// NOIB: a new handle reporting on `fd`, or nil when all slots are taken.
    func open(fd: Int32) -> Handle? {
        lock.locked { () -> Handle? in
            guard let slot = handles.firstIndex(where: { $0 == nil }) else { return nil }
            let h = Handle(slot: slot, fd: fd)
            handles[slot] = h
            return h
        }
    }

    /// NB (and NP with no bits): which pins of bank 0 the handle reports. Refused when the
    /// client may not read the level register of a monitored pin.
    func begin(_ slot: Int, bits: UInt32, executor: ClientAccess) -> Int32 {
        var rest = bits
        while rest != 0 {
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            guard let b = pins.bit(.level, i), executor.allows(b.address, write: false) else { return PigpioStatus.notPermitted }
        }
        let levels = pins.bankLevels(bank: 0)
        var registers: [UInt64: UInt64] = [:]
        for a in Set(levels.map(\.address)) { registers[a] = try? executor.readUnobserved(a) }
        let now = PigpioPinMap.bankWord(levels, registers: registers)
        let startPoller: Bool = lock.locked {
            guard slot >= 0, slot < handles.count, let h = handles[slot] else { return false }
            if h.executor == nil {
                h.executor = ClientAccess(daemon: daemon, client: identity, command: "pigpio-notify")
            }
            h.monitor = bits
            h.primeLevel = now
            if pollerRunning || bits == 0 { return false }
            pollerRunning = true
            return true
        }
        guard lock.locked({ slot >= 0 && slot < handles.count && handles[slot] != nil }) else { return PigpioStatus.badHandle }
        if startPoller && !spawnThread(stackSize: 256 << 10, { [self] in poll() }) {
            lock.locked { pollerRunning = false }
        }
        return 0
    }

    /// NC, or the handle's connection closed.
    @discardableResult
    func close(_ slot: Int) -> Int32 {
        let h: Handle? = lock.locked {
            guard slot >= 0, slot < handles.count, let h = handles[slot] else { return nil }
            handles[slot] = nil
            return h
        }
        guard let h else { return PigpioStatus.badHandle }
        h.retire()
        return 0
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    /// The poller: reads bank 0's level registers for each monitoring handle and reports changes.
    func poll() {
        let levels = pins.bankLevels(bank: 0)
        let addresses = Set(levels.map(\.address)).sorted()
        while !stopping.load(ordering: .relaxed) {
            let active: [(Handle, UInt32, ClientAccess, UInt32?)] = lock.locked {
                handles.compactMap { h in
                    guard let h, h.monitor != 0, let e = h.executor else { return nil }
                    defer { h.primeLevel = nil }
                    return (h, h.monitor, e, h.primeLevel)
                }
            }
            if active.isEmpty {
                let idle: Bool = lock.locked {
                    if handles.allSatisfy({ ($0?.monitor ?? 0) == 0 }) { pollerRunning = false; return true }
                    return false
                }
                if idle { return }
                continue
            }
            for (h, monitor, executor, prime) in active {
                if let prime {
                    h.lastLevel = prime
                    h.primed = true
                }
                executor.refreshIfPolicyChanged()
                var registers: [UInt64: UInt64] = [:]
                do {
                    for a in addresses { registers[a] = try executor.readUnobserved(a) }
                } catch {
                    continue  // a reload took the grant away; NB would refuse now
                }
                let level = PigpioPinMap.bankWord(levels, registers: registers)
                guard h.primed, (level ^ h.lastLevel) & monitor != 0 else {
                    (h.lastLevel, h.primed) = (level, true)
                    continue
                }
                let report = PigpioReport(
                    sequence: h.sequence, tick: UInt32(truncatingIfNeeded: monotonicNanoseconds() / 1000), level: level)
                switch h.sendWithoutWaiting(report.bytes) {
                case .sent:
                    h.sequence &+= 1
                    h.lastLevel = level
                case .busy:
                    break  // lastLevel unchanged: the change is reported on the next poll
                case .dropped:
                    lock.locked { if handles[h.slot] === h { handles[h.slot] = nil } }
                }
            }
            usleep(PigpioNotifier.pollMicroseconds)
        }
    }
}
