import Glibc
import IOGateCore
import IOGateGPIO
import IOGateMapping
import IOGateMock
import IOGateProtocol
import IOGateSystem
import Synchronization

/// The privileged helper: maps the granted windows once, drops privileges, and serves clients.
// @unchecked Sendable: `policy` changes only under `policyLock` (readers take it too, and see the
// change through `generation`); `clientFDs` only under `clientsLock`; `windows`, `mock`, `mapping`,
// `listener`, `pigpio` and `accessLog` are set by `start()` before any thread that reads them exists.
public final class Daemon: @unchecked Sendable {
    public let config: Config
    public let board: Board?
    public private(set) var policy: Policy
    public let logger: Logger
    public var limits: Limits { config.limits }
    /// The windows served, in address order.
    public private(set) var windows: [ServedRange] = []
    /// The mock board, when `device = "mock"`.
    public private(set) var mock: MockBoard?
    /// The recorded registers, when `device = "replay:PATH"` (a constant: sessions read it after every request).
    public let replay: ReplaySpace?
    /// The `/dev/mem` (or file) mapping, when not mock.
    public private(set) var mapping: DeviceMapping?
    /// Bumped by each successful policy reload; sessions re-evaluate their allowlist when it moves.
    let generation = Atomic<Int>(0)
    let policyLock = Lock()
    var listener: UnixListener?
    /// The pigpio TCP frontend, when `pigpio_listen` is set.
    var pigpio: PigpioFrontend?
    let tracer: Tracer?
    /// Where observed accesses go (see `observe`).
    private(set) var accessLog: AccessLog!
    let clientsLock = Lock()
    var clientFDs: Set<Int32> = []
    let stopping = Atomic<Bool>(false)
    /// Set when `stop()` has finished its work.
    let stopped = Atomic<Bool>(false)
    /// Checks run before every write (see `WriteGuard`). Written only by `start()`, before the
    /// first session thread exists (thread creation orders the write before every read), and
    /// never changed after: sessions read it without a lock.
    public internal(set) var writeGuards: [WriteGuard] = []
    /// GPIO line information for `protect_kernel_lines`: injected by tests, else libgpiod (see `Daemon+KernelLines.swift`).
    let gpioLines: GPIOLineInfoSource?

    /// Checks the configuration, resolves the board and the grants. Nothing is mapped yet.
    /// `gpioLines` replaces libgpiod as the source of GPIO line claims (tests pass a fake).
    public init(config: Config, boards: BoardCatalog?, logger: Logger, gpioLines: GPIOLineInfoSource? = nil) throws(IOGateError) {
        self.config = config
        self.gpioLines = gpioLines
        self.logger = logger
        switch config.board {
        case nil:
            board = nil
        case .id(let id)?:
            guard let boards else { throw IOGateError(.board, "board '\(id)' is set but no board files were found") }
            board = try boards.board(id: id)
        case .auto?:
            guard let boards else { throw IOGateError(.board, "board = \"auto\" is set but no board files were found") }
            guard let compatible = BoardDirectory.machineCompatible() else {
                throw IOGateError(
                    .board,
                    "board = \"auto\" but this machine has no /proc/device-tree/compatible; set board = \"<id>\" with one of: \(boards.boards.map(\.id).joined(separator: ", "))"
                )
            }
            board = try boards.detect(compatible: compatible)
        }
        policy = try config.policy(board: board, userID: Accounts.uid(of:), groupID: Accounts.gid(of:))
        if case .path(let path) = config.device { try DeviceMapping.checkFits(path: path, ranges: policy.allRanges) }
        let boardID = board?.id
        tracer = try config.trace.map { path throws(IOGateError) in try Tracer(path: path, board: boardID) }
        if case .replay(let path) = config.device {
            replay = try ReplaySpace(path: path, board: board, logger: logger)
        } else {
            replay = nil
        }
        let windows = board?.windows ?? []
        accessLog = AccessLog(tracer: tracer, audit: config.audit, logger: logger) { address, served in
            Self.label(address, served, windows)
        }
    }

    /// Refuses grants over RAM, maps every granted range, binds the socket, then drops privileges.
    public func start() throws(IOGateError) {
        accessLog.start()
        let ranges = policy.allRanges
        switch config.device {
        case .mock:
            guard let board else {
                throw IOGateError(
                    .config, "\(config.file): device = \"mock\" needs a board to simulate; add board = \"rpi4\" (or another id)")
            }
            let mock = MockBoard(board: board)
            self.mock = mock
            windows = PhysicalRange.union(ranges).enumerated().map { ServedRange(range: $1, name: windowName($1), space: mock, index: $0) }
        case .replay:
            guard let replay else { throw IOGateError(.config, "\(config.file): the replay trace was not loaded") }
            windows = PhysicalRange.union(ranges).enumerated().map {
                ServedRange(range: $1, name: windowName($1), space: replay, index: $0)
            }
        case .path(let path):
            let iomem = try checkRAM(path: path)
            let writable = policy.grants.filter { $0.access == .rw }.flatMap { $0.ranges.map(\.range) }
            let mapping = try DeviceMapping(path: path, ranges: ranges, writableRanges: writable) { range in
                Self.explainStrictDevmem(range, iomem: iomem)
            }
            self.mapping = mapping
            // A bus fault during an access then fails that request instead of the daemon.
            try BusFault.installHandler()
            windows = mapping.regions.enumerated().map { ServedRange(range: $1.range, name: windowName($1.range), space: $1, index: $0) }
        }
        installKernelLineGuard()
        if let l = try UnixListener.fromSystemd(expectedPath: config.socket) {
            listener = l
        } else {
            var gid: UInt32?
            if let g = config.socketGroup {
                guard let id = Accounts.gid(of: g) ?? UInt32(g) else {
                    throw IOGateError(.config, "\(config.file): socket_group '\(g)' does not exist")
                }
                gid = id
            }
            try UnixListener.prepareDirectory(
                for: config.socket, owner: try config.user.map { u throws(IOGateError) in try Privileges.resolve(u) })
            listener = try UnixListener.bind(path: config.socket, mode: config.socketMode, group: gid)
        }
        pigpio = try PigpioFrontend.bind(daemon: self)  // TCP bind needs the socket call seccomp refuses later
        if let user = config.user {
            let account = try Privileges.resolve(user)
            try Privileges.drop(to: account)
        } else {
            try Privileges.noNewPrivileges()
        }
        if config.seccomp {
            try Privileges.installSeccomp()
        } else {
            logger.warning("seccomp = false: the daemon runs without a system call filter")
        }
        let chunks = mapping?.regions.reduce(0) { $0 + $1.chunks.count } ?? 0
        let backend =
            mock != nil
            ? "mock board \(board?.id ?? "")"
            : replay != nil ? "a replay of \(replay!.recordCount) recorded accesses" : "device \(mapping?.path ?? "") (\(chunks) chunks)"
        logger.notice("ready on \(config.socket): \(windows.count) windows mapped from \(backend), running as uid \(getuid())")
        releaseStartupCode()
        pigpio?.startAccepting()
    }

    func windowName(_ range: PhysicalRange) -> String? {
        board?.windows.first { $0.range == range }?.name
    }

    /// Reads `/proc/iomem` for a character device and refuses grants overlapping RAM.
    func checkRAM(path: String) throws(IOGateError) -> Iomem? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFCHR else { return nil }
        guard let text = readTextFile("/proc/iomem") else {
            logger.warning("cannot read /proc/iomem; grants are not checked against System RAM")
            return nil
        }
        let iomem = Iomem(text: text)
        if iomem.isRedacted {
            logger.warning("/proc/iomem shows only zero addresses (not running as root?); grants are not checked against System RAM")
            return iomem
        }
        for (i, grant) in policy.grants.enumerated() where !grant.allowRAM {
            for r in grant.ranges {
                if let ram = iomem.ramOverlapping(r.range).first {
                    throw IOGateError(
                        .config,
                        "\(config.file):\(grant.line.map(String.init) ?? "?"): [[grant]] #\(i + 1) range \(r.range) overlaps System RAM in /proc/iomem (\(ram)); mapping RAM through /dev/mem can corrupt the running kernel. Set allow_ram = true in that grant only if you mean it"
                    )
                }
            }
        }
        return iomem
    }

    /// Explains an `EPERM` from `mmap` of `/dev/mem`: `CONFIG_IO_STRICT_DEVMEM` and a driver's claim.
    static func explainStrictDevmem(_ range: PhysicalRange, iomem: Iomem?) -> String {
        let claims = iomem?.claimsOverlapping(range) ?? []
        let who =
            claims.isEmpty
            ? "a kernel driver has claimed this range"
            : "the range is claimed in /proc/iomem by \(claims.map { "'\($0)'" }.joined(separator: ", "))"
        return
            ". The kernel refuses /dev/mem access to ranges a driver holds (CONFIG_IO_STRICT_DEVMEM): \(who). Unbind that driver (echo <device> > /sys/bus/<bus>/drivers/<driver>/unbind) or boot with iomem=relaxed on the kernel command line"
    }

    /// The allowlist of a client under the current policy, with each entry's served window.
    func allowlist(for client: ClientIdentity) -> (Allowlist, [ServedRange], Int) {
        policyLock.locked {
            let gen = generation.load(ordering: .relaxed)
            let list = policy.allowlist(for: client)
            let ws = list.entries.map { e in windows.first { $0.range.contains(e.range.base, size: e.range.length) }! }
            return (list, ws, gen)
        }
    }

    /// Reloads the policy from the configuration file. Grants may only use windows already
    /// mapped; anything else leaves the old policy in force.
    public func reload() {
        do {
            let fresh = try ConfigLoader.load(config.file)
            let newPolicy = try fresh.policy(board: board, userID: Accounts.uid(of:), groupID: Accounts.gid(of:))
            for r in newPolicy.allRanges where !windows.contains(where: { $0.range.contains(r.base, size: r.length) }) {
                throw IOGateError(
                    .config, "new grant range \(r) is not inside a mapped window; mapping new windows needs a restart of iogated")
            }
            policyLock.locked {
                policy = newPolicy
                generation.add(1, ordering: .relaxed)
            }
            logger.notice("policy reloaded from \(config.file): \(newPolicy.grants.count) grants")
        } catch {
            logger.error("reload refused, previous policy stays in force: \(error)")
        }
    }

    /// Accepts clients until `stop()`; each client gets its own thread. Returns once the clients
    /// connected at the stop have finished their requests in flight (or after the grace time).
    public func serve() {
        guard let listener else { return }
        while !stopping.load(ordering: .relaxed), let fd = listener.accept() {
            if stopping.load(ordering: .relaxed) {
                close(fd)
                break
            }
            admit(fd)
        }
        let deadline = monotonicNanoseconds() + UInt64(stopGrace * 1e9)
        // Let stop() finish (socket removed, client reads shut down) before the caller exits.
        while !stopped.load(ordering: .acquiring) && monotonicNanoseconds() < deadline { usleep(1000) }
        while clientsLock.locked({ !clientFDs.isEmpty }) && monotonicNanoseconds() < deadline { usleep(5000) }
        accessLog.flush()
    }

    func admit(_ fd: Int32) {
        let full: Bool = clientsLock.locked {
            if clientFDs.count >= limits.maxClients { return true }
            clientFDs.insert(fd)
            return false
        }
        if full {
            var w = ByteWriter()
            Codec.encodeError(
                IOGateError(.limitExceeded, "too many clients (\(limits.maxClients) connected); try again later"), opcode: 0, id: 0,
                into: &w)
            _ = writeAll(fd, w.bytes)
            close(fd)
            return
        }
        if limits.idleTimeoutSeconds > 0 {
            var tv = timeval(tv_sec: limits.idleTimeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        let started = spawnThread { [self] in
            defer {
                clientsLock.locked { _ = clientFDs.remove(fd) }
                close(fd)
            }
            guard let client = try? peerIdentity(fd) else { return }
            Session(fd: fd, client: client, daemon: self).run()
        }
        if !started {
            clientsLock.locked { _ = clientFDs.remove(fd) }
            close(fd)
        }
    }

    /// How long `serve()` waits, after a stop, for requests in flight (a constant: read by the
    /// serving thread while the signal thread stops the daemon).
    public let stopGrace: Double = 2

    /// Stops accepting and removes the socket; connected clients may finish the request they
    /// are in (their reads are shut down, so they leave after answering it). `serve()` then returns.
    public func stop() {
        if stopping.exchange(true, ordering: .relaxed) { return }
        if let why = listener?.shutdownAndUnlink() { logger.warning("\(why)") }
        pigpio?.stop()
        clientsLock.locked { for fd in clientFDs { Glibc.shutdown(fd, Int32(SHUT_RD)) } }
        stopped.store(true, ordering: .releasing)
    }

    /// Runs the write guards.
    @inline(__always)
    func checkGuards(_ window: ServedRange, _ address: UInt64, _ width: AccessWidth, mask: UInt64, value: UInt64, _ executor: ClientAccess)
        throws(IOGateError)
    {
        for g in writeGuards {
            try g.check(window: window, address: address, width: width, mask: mask, value: value, client: executor.client)
        }
    }

    /// Logs a request the policy (or a write guard) refused, unless audit is off: failed attempts
    /// are what an administrator looks for first.
    func auditRefusal(_ error: IOGateError, _ executor: ClientAccess) {
        guard config.audit != .none, error.code.isRefusal || error.code == .misaligned else { return }
        logger.notice("audit: refused uid=\(executor.client.uid) pid=\(executor.client.pid) comm=\(executor.command): \(error.message)")
    }

    /// Audits and traces one access: queued under the window lock, written after it (`AccessLog`).
    /// Not called at all when both are off (`ClientAccess.observing`).
    @inline(__always)
    func observe(write: Bool, _ window: ServedRange, _ address: UInt64, _ width: AccessWidth, _ value: UInt64, _ session: ClientAccess) {
        accessLog.record(
            AccessLog.Record(
                write: write, address: address, width: width, value: value, window: window, client: session.client,
                command: session.command))
    }

    /// `window+0xOFFSET` using the board window that holds the address, else the served range.
    static func label(_ address: UInt64, _ window: ServedRange, _ boardWindows: [BoardWindow]) -> String {
        if let w = boardWindows.first(where: { $0.range.contains(address, size: 1) }) {
            return "\(w.name)+\(hex(address - w.range.base))"
        }
        return "\(hex(window.range.base))+\(hex(address - window.range.base))"
    }
}
