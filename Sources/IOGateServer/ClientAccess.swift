import Glibc
import IOGateCore
import IOGateMapping
import IOGateProtocol

/// Checks and runs register operations for one client identity: every access against the
/// client's allowlist (inside one granted range, aligned, write permission) and the daemon's
/// write guards, then under the window's lock. Used by native sessions and other frontends.
public final class ClientAccess {
    unowned let daemon: Daemon
    /// Who the operations are for.
    public let client: ClientIdentity
    /// The client's command name, for the audit log.
    public let command: String
    // An executor serves one connection and is used by that connection's thread only, so the
    // runtime's dynamic exclusivity checks on its mutable state are skipped (hot on every request).
    @exclusivity(unchecked) var allowlist: Allowlist
    /// For each allowlist entry, the served window that holds it.
    @exclusivity(unchecked) var entryWindows: [ServedRange]
    @exclusivity(unchecked) var generation: Int
    /// Whether any entry of the allowlist is a pin or bit grant: when not (most clients), every
    /// path skips the mask checks after one test of this flag.
    @exclusivity(unchecked) var hasMasks = false
    @exclusivity(unchecked) var batchWindows: [ServedRange] = []
    /// The batch's modifies that write guards must judge: their decision depends on the register's
    /// current value, so they are checked under the batch's locks, just before it runs.
    @exclusivity(unchecked) var batchLockedGuards: [LockedGuardCheck] = []
    /// The batch's operations that go through a pin or bit grant and run differently from what
    /// they ask (a plain write as a masked read-modify-write, a modify storing only granted bits),
    /// in operation order. Empty for most batches: then the batch runs on the unchanged fast path.
    @exclusivity(unchecked) var batchMasked: [MaskedBatchOp] = []
    /// Whether accesses are traced or audited (fixed for the daemon's life): when not, the hot
    /// paths skip `Daemon.observe` entirely.
    let observing: Bool

    public init(daemon: Daemon, client: ClientIdentity, command: String) {
        self.daemon = daemon
        self.client = client
        self.command = command
        observing = daemon.observes
        (allowlist, entryWindows, generation) = daemon.allowlist(for: client)
        hasMasks = allowlist.entries.contains { $0.masks != nil }
    }

    /// Re-evaluates the allowlist after a policy reload.
    @inline(__always)
    public func refreshIfPolicyChanged() {
        if daemon.generation.load(ordering: .relaxed) != generation {
            (allowlist, entryWindows, generation) = daemon.allowlist(for: client)
            hasMasks = allowlist.entries.contains { $0.masks != nil }
        }
    }

    /// The ranges this client may use, with board window names and GPIO models.
    public func windows() -> [WindowInfo] {
        allowlist.entries.map { e in
            let w = e.window.flatMap { daemon.board?.window(named: $0) }
            return WindowInfo(
                name: e.window ?? "", base: e.range.base, length: e.range.length, access: e.access,
                model: w?.model?.rawValue ?? "", pins: UInt16(clamping: w?.pins ?? 0))
        }
    }

    /// The physical address `offset` bytes into this client's granted window `name` (protocol
    /// version 3 window-relative requests). A name lookup and a bound, not an allowlist check: the
    /// access at the address is checked as any other.
    public func resolve(window name: String, offset: UInt64) throws(IOGateError) -> UInt64 {
        guard let e = allowlist.entries.first(where: { $0.window == name }) else {
            let names = allowlist.entries.compactMap(\.window).filter { !$0.isEmpty }
            throw IOGateError(
                .notFound,
                "no window named '\(name)' is granted to you; your windows: \(names.isEmpty ? "none with names" : names.joined(separator: ", "))"
            )
        }
        guard offset < e.range.length else {
            throw IOGateError(
                .outsideAllowlist, "offset \(hex(offset)) is past the end of window '\(name)' (length \(hex(e.range.length)))")
        }
        return e.range.base &+ offset
    }

    /// The windows list with what of each entry is granted: the whole range, pins, or bits.
    public func grants() -> [GrantInfo] {
        zip(windows(), allowlist.entries).map { w, e in
            guard let masks = e.masks else { return GrantInfo(window: w) }
            if masks.isPins { return GrantInfo(window: w, pins: masks.pins.map { UInt16(clamping: $0) }) }
            return GrantInfo(window: w, bits: masks.uniform)
        }
    }

    /// Checks a read of `count` elements without running it.
    @inline(__always)
    public func checkRead(_ address: UInt64, _ width: AccessWidth, count: UInt32 = 1) throws(IOGateError) {
        let e = try allowlist.check(address, width: width, count: UInt64(count), write: false)
        if hasMasks && allowlist.entries[e].masks != nil { try checkMaskedReads(e, address, width, count: count) }
    }

    /// Through a pin or bit grant, every register read must hold a granted bit.
    func checkMaskedReads(_ e: Int, _ address: UInt64, _ width: AccessWidth, count: UInt32) throws(IOGateError) {
        let step = UInt64(width.rawValue)
        for i in 0..<UInt64(count) { _ = try allowlist.masked(e, address &+ i &* step, width: width, kind: .read) }
    }

    /// Reads `count` consecutive elements, handing each value to `sink`.
    @inline(__always)
    public func read(_ address: UInt64, _ width: AccessWidth, count: UInt32 = 1, _ sink: (UInt64) -> Void) throws(IOGateError) {
        let e = try allowlist.check(address, width: width, count: UInt64(count), write: false)
        if hasMasks && allowlist.entries[e].masks != nil { try checkMaskedReads(e, address, width, count: count) }
        let window = entryWindows[e]
        let step = UInt64(width.rawValue)
        window.lock.lock()
        defer { window.lock.unlock() }
        for i in 0..<UInt64(count) {
            let a = address &+ i &* step
            let v = window.space.load(a, width)
            sink(v)
            if observing { daemon.observe(write: false, window, a, width, v, self) }
        }
        try ClientAccess.checkBusFault()
    }

    /// Reads one register.
    public func read(_ address: UInt64, _ width: AccessWidth = .word) throws(IOGateError) -> UInt64 {
        var value: UInt64 = 0
        try read(address, width, count: 1) { value = $0 }
        return value
    }

    /// Writes consecutive elements.
    public func write(_ address: UInt64, _ width: AccessWidth, _ values: [UInt64]) throws(IOGateError) {
        let e = try allowlist.check(address, width: width, count: UInt64(values.count), write: true)
        if hasMasks && allowlist.entries[e].masks != nil { return try maskedWrite(e, address, width, values) }
        let window = entryWindows[e]
        let step = UInt64(width.rawValue)
        for (i, v) in values.enumerated() {
            try daemon.checkGuards(window, address &+ UInt64(i) &* step, width, mask: width.maxValue, value: v, self)
        }
        window.lock.lock()
        defer { window.lock.unlock() }
        for (i, v) in values.enumerated() {
            let a = address &+ UInt64(i) &* step
            window.space.store(a, width, v)
            if observing { daemon.observe(write: true, window, a, width, v, self) }
        }
        try ClientAccess.checkBusFault()
    }

    /// Writes through a pin or bit grant: each element is checked first (nothing is stored if one
    /// is refused); a plain write to a register shared with pins not granted becomes a
    /// read-modify-write of the granted bits, all under the window lock (`Allowlist.masked`).
    func maskedWrite(_ e: Int, _ address: UInt64, _ width: AccessWidth, _ values: [UInt64]) throws(IOGateError) {
        let window = entryWindows[e]
        let step = UInt64(width.rawValue)
        var plans: [MaskedAccess] = []
        plans.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            let a = address &+ UInt64(i) &* step
            let plan = try allowlist.masked(e, a, width: width, kind: .write, value: v)
            if case .readModifyWrite(let mask) = plan {
                try daemon.checkGuards(window, a, width, mask: mask, value: v, self)
            } else {
                try daemon.checkGuards(window, a, width, mask: width.maxValue, value: v, self)
            }
            plans.append(plan)
        }
        window.lock.lock()
        defer { window.lock.unlock() }
        for (i, v) in values.enumerated() {
            let a = address &+ UInt64(i) &* step
            if case .readModifyWrite(let mask) = plans[i] {
                _ = modifyLocked(window, a, width, mask, v)
            } else {
                window.space.store(a, width, v)
                if observing { daemon.observe(write: true, window, a, width, v, self) }
            }
        }
        try ClientAccess.checkBusFault()
    }

    /// Atomically replaces the bits of `mask` with those of `value`; returns the old value.
    public func modify(_ address: UInt64, _ width: AccessWidth, mask: UInt64, value: UInt64) throws(IOGateError) -> UInt64 {
        let e = try allowlist.check(address, width: width, write: true)
        let plan =
            !hasMasks || allowlist.entries[e].masks == nil
            ? .plain : try allowlist.masked(e, address, width: width, kind: .modify, mask: mask)
        let window = entryWindows[e]
        window.lock.lock()
        defer { window.lock.unlock() }
        // Under the lock: a guard judges the pins this modify changes from the value it is about to
        // modify, so no other client's store can land between the judgement and the store.
        try daemon.checkGuards(window, address, width, mask: mask, value: value, self)
        let old: UInt64
        if case .storeOnly(let keep) = plan {
            old = modifyLocked(window, address, width, mask, value, storing: keep)
        } else {
            old = modifyLocked(window, address, width, mask, value)
        }
        try ClientAccess.checkBusFault()
        return old
    }

    /// A modify of a write-1-to-act register through a pin grant: stores only the granted bits
    /// `keep` of the result.
    func modifyLocked(
        _ window: ServedRange, _ address: UInt64, _ width: AccessWidth, _ mask: UInt64, _ value: UInt64, storing keep: UInt64
    ) -> UInt64 {
        let old = window.space.load(address, width)
        if observing { daemon.observe(write: false, window, address, width, old, self) }
        let new = ((old & ~mask) | (value & mask)) & keep
        window.space.store(address, width, new)
        if observing { daemon.observe(write: true, window, address, width, new, self) }
        return old
    }

    @inline(__always)
    func modifyLocked(_ window: ServedRange, _ address: UInt64, _ width: AccessWidth, _ mask: UInt64, _ value: UInt64) -> UInt64 {
        let old = window.space.load(address, width)
        if observing { daemon.observe(write: false, window, address, width, old, self) }
        let new = (old & ~mask) | (value & mask)
        window.space.store(address, width, new)
        if observing { daemon.observe(write: true, window, address, width, new, self) }
        return old
    }

    /// Polls `(reg & mask) == value` in the daemon, backing off from 10 us to 1 ms between polls.
    public func wait(
        _ address: UInt64, _ width: AccessWidth, mask: UInt64, value: UInt64,
        timeoutMilliseconds: UInt32
    ) throws(IOGateError) -> UInt64 {
        let e = try allowlist.check(address, width: width, write: false)
        if hasMasks && allowlist.entries[e].masks != nil { try checkMaskedReads(e, address, width, count: 1) }
        let window = entryWindows[e]
        let deadline = monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        var pause: UInt32 = 10
        while true {
            window.lock.lock()
            let v = window.space.load(address, width)
            window.lock.unlock()
            try ClientAccess.checkBusFault()
            if v & mask == value {
                if observing { daemon.observe(write: false, window, address, width, v, self) }
                return v
            }
            if monotonicNanoseconds() >= deadline {
                throw IOGateError(
                    .timeout,
                    "wait at \(hex(address)): (value & \(hex(mask))) did not become \(hex(value)) within \(timeoutMilliseconds) ms; last value \(hex(v, digits: width.hexDigits))"
                )
            }
            usleep(pause)
            pause = min(pause * 2, 1000)
        }
    }

    /// The error for a bus fault raised by this thread's accesses since the last check, if any
    /// (see `BusFault`): the accesses before the faulting one took effect; it and every later
    /// access of the request did nothing.
    @inline(__always)
    static func busFaultError() -> IOGateError? {
        guard let address = BusFault.take() else { return nil }
        return IOGateError(
            .busFault,
            "bus fault at physical address \(hex(address)): nothing answered the access (an address past the end of the "
                + "device file, a powered-down block, or no device there); the accesses before it in this request took "
                + "effect, it and those after it did not run", details: .init(address: address))
    }

    /// Throws `busFaultError()` if there is one.
    @inline(__always)
    static func checkBusFault() throws(IOGateError) {
        if let error = busFaultError() { throw error }
    }

    /// Checks every operation of a batch; one refusal refuses the whole batch.
    public func validate(_ ops: [BatchOp]) throws(IOGateError) {
        var checker = BatchChecker(self)
        defer { (batchWindows, batchLockedGuards, batchMasked) = (checker.windows, checker.lockedGuards, checker.masked) }
        for (i, op) in ops.enumerated() { _ = try checker.check(op, index: i) }
    }

    /// Runs a batch that `validate` accepted (see `withBatchLocks`). Results: read value, 0, old value.
    /// Returns the refusal of a write guard judged under the locks (then nothing ran), or the bus
    /// fault that stopped the batch.
    @discardableResult
    public func runValidatedBatch(_ ops: [BatchOp], _ sink: (UInt64) -> Void) -> IOGateError? {
        if !batchMasked.isEmpty {
            return withBatchLocks { _ in
                var next = 0
                for (i, op) in ops.enumerated() { sink(runMaskedLocked(op, index: i, &next)) }
            }
        }
        return withBatchLocks { region in
            for op in ops { sink(runLocked(op, region)) }
        }
    }

    /// Runs operation `index` of a batch with masked operations (`batchMasked`, whose entry
    /// `next` is the next one due), under `withBatchLocks`, on the general path.
    @inline(never)
    func runMaskedLocked<Op: BatchOperation>(_ op: Op, index: Int, _ next: inout Int) -> UInt64 {
        guard next < batchMasked.count, batchMasked[next].index == index else { return runLocked(op, nil) }
        let m = batchMasked[next]
        next += 1
        guard let w = batchWindows.first(where: { $0.range.contains(op.address, size: UInt64(op.width.bytes)) }) else { return 0 }
        switch m.access {
        case .readModifyWrite(let mask):
            _ = modifyLocked(w, op.address, op.width, mask, op.value)
            return 0
        case .storeOnly(let keep):
            return modifyLocked(w, op.address, op.width, op.mask, op.value, storing: keep)
        case .plain:
            return runLocked(op, nil)
        }
    }

    /// Holds every window a validated batch touches locked (taken in window order, so concurrent
    /// batches cannot deadlock) while `body` runs its operations. `body` gets the mapping to access
    /// directly in the common case, one mapped window and nothing to observe; nil otherwise.
    /// The write guards of the batch's modifies are judged first, under the locks; a refusal is
    /// returned and nothing runs. A bus fault during `body` is returned too (see `busFaultError`).
    @inline(__always)
    func withBatchLocks(_ body: (MappedRegion?) -> Void) -> IOGateError? {
        batchWindows.sort { $0.index < $1.index }
        for w in batchWindows { w.lock.lock() }
        defer { for w in batchWindows.reversed() { w.lock.unlock() } }
        for c in batchLockedGuards {
            do {
                try daemon.checkGuards(c.window, c.address, c.width, mask: c.mask, value: c.value, self)
            } catch {
                return BatchChecker.refusal(error, index: c.index)
            }
        }
        let region = batchWindows.count == 1 && !observing ? batchWindows[0].space as? MappedRegion : nil
        body(region)
        return ClientAccess.busFaultError()
    }

    /// Runs one validated batch operation under `withBatchLocks`; returns the value read, 0 for a
    /// write, the old value for a modify. With `region`, the volatile accesses are inlined here
    /// instead of a dynamic call per operation (measured by `iogate bench`).
    @inline(__always)
    func runLocked<Op: BatchOperation>(_ op: Op, _ region: MappedRegion?) -> UInt64 {
        let width = op.width
        if let region {
            switch op.kind {
            case .read:
                return region.load(op.address, width)
            case .write:
                region.store(op.address, width, op.value)
                return 0
            case .modify:
                let old = region.load(op.address, width), mask = op.mask
                region.store(op.address, width, (old & ~mask) | (op.value & mask))
                return old
            }
        }
        // Served windows are disjoint and each validated access lies inside one of them.
        guard let w = batchWindows.first(where: { $0.range.contains(op.address, size: UInt64(width.bytes)) }) else { return 0 }
        switch op.kind {
        case .read:
            let v = w.space.load(op.address, width)
            if observing { daemon.observe(write: false, w, op.address, width, v, self) }
            return v
        case .write:
            w.space.store(op.address, width, op.value)
            if observing { daemon.observe(write: true, w, op.address, width, op.value, self) }
            return 0
        case .modify:
            return modifyLocked(w, op.address, width, op.mask, op.value)
        }
    }

    // MARK: Compact batches (protocol version 2), read in place from the request frame

    /// Checks every operation of a compact batch, read from the frame (no array is built), with
    /// the same `BatchChecker` as `validate(_: [BatchOp])`; one refusal refuses the whole batch.
    public func validate(_ batch: CompactBatchView) throws(IOGateError) {
        var checker = BatchChecker(self)
        defer { (batchWindows, batchLockedGuards, batchMasked) = (checker.windows, checker.lockedGuards, checker.masked) }
        try batch.forEach { (i, op) throws(IOGateError) in _ = try checker.check(op, index: i) }
    }

    /// Decodes a compact batch request in place and checks every operation's shape and policy in
    /// one pass (`Codec.decodeCompactBatch(_:limits:policy:)` with this client's `BatchChecker`):
    /// what `Codec.decodeCompactBatch` then `validate` do, with the same outcome and errors.
    // SAFETY: the view returned follows CompactBatchView's lifetime rule: Session.handleCompactBatch
    // runs and answers it inside the closure that holds the frame.
    public func decodeAndValidate(_ payload: UnsafeRawBufferPointer, limits: Limits) throws(IOGateError) -> (
        FrameHeader, CompactBatchView
    ) {
        var checker = BatchChecker(self)
        defer { (batchWindows, batchLockedGuards, batchMasked) = (checker.windows, checker.lockedGuards, checker.masked) }
        return try Codec.decodeCompactBatch(payload, limits: limits, policy: &checker)
    }

    /// Runs a compact batch that `validate` accepted (see `withBatchLocks`). Writes one result per
    /// read and modify into `results`.
    @discardableResult
    public func runValidatedBatch(_ batch: CompactBatchView, into results: inout CompactResultWriter) -> IOGateError? {
        // The writer in a local (not through `inout`) for the loop.
        var out = results
        defer { results = out }
        if !batchMasked.isEmpty {
            return withBatchLocks { _ in
                var next = 0
                batch.forEach { i, op in
                    let v = runMaskedLocked(op, index: i, &next)
                    if op.kind != .write { out.put(v, op.width) }
                }
            }
        }
        return withBatchLocks { region in
            if let region {
                ClientAccess.runDirect(batch, region.accessor, &out)
                return
            }
            batch.forEach { _, op in
                let v = runLocked(op, nil)
                if op.kind != .write { out.put(v, op.width) }
            }
        }
    }

    /// The compact batch's loop in the common case (one mapped window, nothing observed): every
    /// access inlined through the region's `RegionAccessor` (no call, no reference counting), with
    /// one bus-fault guard for the whole batch: a fault pending from before runs nothing, and the
    /// first access that faults stops the batch there (the operations before it took effect; it
    /// and those after it did not run), leaving the fault for `withBatchLocks` to return.
    @inline(__always)
    static func runDirect(_ batch: CompactBatchView, _ region: RegionAccessor, _ out: inout CompactResultWriter) {
        if BusFault.isPending { return }
        var faulted: Int32 = 0
        batch.forEach { (address: UInt64) -> Bool in  // a 32-bit read, the common register access
            let v = region.tryLoad32(address, &faulted)
            guard faulted == 0 else { return stop(at: address) }
            out.putWord(v)
            return true
        } other: { (op: CompactOp) -> Bool in
            let width = op.width
            switch op.kind {
            case .read:
                let v = region.tryLoad(op.address, width, &faulted)
                guard faulted == 0 else { return stop(at: op) }
                out.put(v, width)
            case .write:
                region.tryStore(op.address, width, op.value, &faulted)
                guard faulted == 0 else { return stop(at: op) }
            case .modify:
                let old = region.tryLoad(op.address, width, &faulted)
                guard faulted == 0 else { return stop(at: op) }  // nothing is stored after a failed load
                let mask = op.mask
                region.tryStore(op.address, width, (old & ~mask) | (op.value & mask), &faulted)
                guard faulted == 0 else { return stop(at: op) }
                out.put(old, width)
            }
            return true
        }
    }

    /// Records the fault of `op` for `withBatchLocks`; the batch stops.
    static func stop(at op: CompactOp) -> Bool { stop(at: op.address) }

    /// Records a fault at `address` for `withBatchLocks`; the batch stops.
    @inline(never)
    static func stop(at address: UInt64) -> Bool {
        BusFault.note(address)
        return false
    }
}

/// The checks of one batch, operation by operation, in whichever encoding it arrived: the
/// allowlist (inside one granted range, aligned, write access, 64-bit width), then the write
/// guards, collecting the windows the batch touches. It keeps the entry that allowed the previous
/// operation: a read (or, without write guards, a write) inside it needs only its alignment, width
/// and access checked, and the outcome is `check`'s (which may name an earlier, overlapping entry,
/// but overlapping entries lie in one served window).
struct BatchChecker {
    // Locals rather than the executor's properties inside the loop: no exclusivity check and no
    // retain per operation (they dominated a 4,096-operation batch in `perf`).
    let executor: ClientAccess
    let allowlist: Allowlist
    let entryWindows: [ServedRange]
    let guarded: Bool
    let hasMasks: Bool
    /// The windows the batch touches, in first-touch order.
    var windows: [ServedRange]
    /// The modifies whose write guards run under the batch's locks (see `ClientAccess.batchLockedGuards`).
    var lockedGuards: [LockedGuardCheck] = []
    /// Why the batch was refused (`CompactBatchPolicy`).
    var refusal: IOGateError?
    /// The operations through pin or bit grants that run differently (see `ClientAccess.batchMasked`).
    var masked: [MaskedBatchOp] = []
    /// The cached entry: its first byte, `last - first`, whether it is writable; entry -1 for none.
    var first: UInt64 = 0, span: UInt64 = 0, writable = false, cachedEntry = -1

    init(_ executor: ClientAccess) {
        self.executor = executor
        allowlist = executor.allowlist
        entryWindows = executor.entryWindows
        guarded = !executor.daemon.writeGuards.isEmpty
        hasMasks = executor.hasMasks
        windows = executor.batchWindows
        executor.batchWindows = []
        windows.removeAll(keepingCapacity: true)
        executor.batchLockedGuards.removeAll(keepingCapacity: true)
        executor.batchMasked.removeAll(keepingCapacity: true)
    }

    /// Checks operation `index`; returns the allowlist entry that allows it.
    @inline(__always)
    mutating func check<Op: BatchOperation>(_ op: Op, index: Int) throws(IOGateError) -> Int {
        let width = op.width, write = op.kind != .read
        let size = UInt64(width.rawValue), offset = op.address &- first
        // Inside the cached entry: `address - first <= span - (size - 1)`, without wrapping.
        if cachedEntry >= 0, op.address & (size &- 1) == 0, offset <= span, span &- offset >= size &- 1,
            !write || (writable && !guarded), width != .double || AccessWidth.doubleIsSingleAccess
        {
            return cachedEntry
        }
        return try checkFully(op, index: index)
    }

    /// The allowlist and the write guards for one operation; caches its entry.
    mutating func checkFully<Op: BatchOperation>(_ op: Op, index: Int) throws(IOGateError) -> Int {
        do {
            let width = op.width, write = op.kind != .read
            let e = try allowlist.check(op.address, width: width, write: write)
            var plan = MaskedAccess.plain
            if hasMasks && allowlist.entries[e].masks != nil {
                let kind: AccessKind = op.kind == .read ? .read : op.kind == .write ? .write : .modify
                plan = try allowlist.masked(e, op.address, width: width, kind: kind, value: op.value, mask: op.mask)
                if plan != .plain { masked.append(MaskedBatchOp(index: index, access: plan)) }
            }
            if write && guarded {
                if case .readModifyWrite(let mask) = plan {
                    try executor.daemon.checkGuards(entryWindows[e], op.address, width, mask: mask, value: op.value, executor)
                } else if op.kind == .modify {
                    lockedGuards.append(
                        LockedGuardCheck(
                            index: index, window: entryWindows[e], address: op.address, width: width, mask: op.mask, value: op.value))
                } else {  // a plain write changes every bit it covers, whatever the register holds
                    try executor.daemon.checkGuards(entryWindows[e], op.address, width, mask: width.maxValue, value: op.value, executor)
                }
            }
            if e != cachedEntry {  // consecutive operations usually share an entry
                let w = entryWindows[e]
                if !windows.contains(where: { $0 === w }) { windows.append(w) }
                let granted = allowlist.entries[e]
                (first, span, writable, cachedEntry) = (granted.range.base, granted.range.length &- 1, granted.access == .rw, e)
                // A pin or bit grant's operations are each checked in full, never from the cache.
                if granted.masks != nil { cachedEntry = -1 }
            }
            return e
        } catch {
            throw Self.refusal(error, index: index)
        }
    }

    /// The error of a batch refused because of operation `index`.
    static func refusal(_ error: IOGateError, index: Int) -> IOGateError {
        error.inBatch(operation: index, prefix: "batch operation #\(index) refused, nothing was run: ")
    }
}

extension BatchChecker: CompactBatchPolicy {
    /// A read whose shape the decoder checked: inside the cached entry, only its alignment and
    /// extent are compared; otherwise `checkFully`.
    @inline(__always)
    mutating func checkRead(_ address: UInt64, bytes size: UInt64, index: Int) -> Bool {
        let offset = address &- first
        if cachedEntry >= 0, address & (size &- 1) == 0, offset <= span, span &- offset >= size &- 1,
            size != 8 || AccessWidth.doubleIsSingleAccess
        {
            return true
        }
        return refuseOrAllow(index) { (c: inout BatchChecker) throws(IOGateError) in
            _ = try c.checkFully(
                BatchOp.read(address, width: AccessWidth(rawValue: UInt8(truncatingIfNeeded: size)) ?? .byte), index: index)
        }
    }

    @inline(__always)
    mutating func checkOther(_ op: CompactOp, index: Int) -> Bool {
        refuseOrAllow(index) { (c: inout BatchChecker) throws(IOGateError) in _ = try c.check(op, index: index) }
    }

    /// The cached entry: reads inside it need only their alignment and extent checked (as in `check`).
    /// Never a pin or bit grant's entry (`checkFully` caches none), so their reads are each checked.
    var readRange: (first: UInt64, span: UInt64)? { cachedEntry >= 0 ? (first, span) : nil }

    /// Runs a throwing check; a refusal is kept in `refusal` and answered false.
    mutating func refuseOrAllow(_ index: Int, _ body: (inout BatchChecker) throws(IOGateError) -> Void) -> Bool {
        do {
            try body(&self)
            return true
        } catch {
            refusal = error
            return false
        }
    }
}

/// A batch modify whose write guards are judged under the batch's window locks.
struct LockedGuardCheck {
    let index: Int
    let window: ServedRange
    let address: UInt64
    let width: AccessWidth
    let mask: UInt64
    let value: UInt64
}

/// A batch operation through a pin or bit grant that runs differently from what it asks.
struct MaskedBatchOp {
    let index: Int
    let access: MaskedAccess
}
