import CIOGateVolatile
import Glibc
import IOGateCore

/// The device (`/dev/mem` or a file standing in for it) with every granted range mapped in chunks.
///
/// This module is the only place IOGate touches device memory (`SourceClaimsTests` checks it). The file descriptor is closed
/// as soon as the mappings exist, so the daemon never re-opens or re-maps the device after start.
public final class DeviceMapping {
    /// The device path, for messages and for `/proc/self/maps` checks.
    public let path: String
    /// One mapped region per disjoint granted range.
    public let regions: [MappedRegion]

    /// Opens `path` (read-only when no range is writable) and maps every range in planned chunks.
    /// A region is mapped writable only when it overlaps one of `writableRanges`, so a read-only
    /// grant is enforced by the MMU as well as by the policy.
    ///
    /// - Parameter explainPermission: called when `mmap` fails with `EPERM` for a range, to build
    ///   the message (it reads `/proc/iomem` to name the driver that claimed the range).
    public init(
        path: String, ranges: [PhysicalRange], writableRanges: [PhysicalRange],
        explainPermission: (PhysicalRange) -> String = { _ in "" }
    ) throws(IOGateError) {
        self.path = path
        let writable = !writableRanges.isEmpty
        let flags = (writable ? O_RDWR : O_RDONLY) | O_SYNC | O_CLOEXEC
        let fd = open(path, flags)
        guard fd >= 0 else {
            let e = errno
            var why = String(cString: strerror(e))
            if e == EPERM || e == EACCES {
                why +=
                    path == "/dev/mem"
                    ? " (opening /dev/mem needs root or CAP_SYS_RAWIO; under kernel lockdown it is refused to everyone)"
                    : " (check the file's owner and mode)"
            }
            throw IOGateError(.mapping, "cannot open device \(path) \(writable ? "read-write" : "read-only"): \(why)")
        }
        defer { close(fd) }
        try Self.checkFits(path: path, ranges: ranges)
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        var regions: [MappedRegion] = []
        for range in PhysicalRange.union(ranges) {
            let regionWritable = writableRanges.contains { $0.overlaps(range) }
            regions.append(
                try MappedRegion(
                    fd: fd, path: path, range: range, pageSize: pageSize, writable: regionWritable,
                    explainPermission: explainPermission))
        }
        self.regions = regions
    }

    /// Refuses ranges that reach past the end of `path` when it is a regular file standing in for
    /// physical memory: an access there would be a bus fault, so the grant is refused at start (and
    /// by `iogated --check`) rather than failing at run time. Devices have no such end.
    public static func checkFits(path: String, ranges: [PhysicalRange]) throws(IOGateError) {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return }
        let size = UInt64(st.st_size)
        if let beyond = ranges.first(where: { $0.last >= size }) {
            throw IOGateError(
                .mapping,
                "the granted range \(beyond) reaches past the end of the device file \(path), which is \(size) bytes "
                    + "(ends at \(hex(size))); grant only ranges inside it, or make the file larger")
        }
    }

    /// The region containing `[address, address + size)`, if any.
    @inlinable
    public func region(containing address: UInt64, size: UInt64) -> MappedRegion? {
        regions.first { $0.range.contains(address, size: size) }
    }
}

/// One granted range, mapped as chunks that never cross a 32 MB boundary.
public final class MappedRegion: RegisterSpace {
    /// The physical range this region serves.
    public let range: PhysicalRange
    /// The chunks, in address order; chunk `i` covers the 32 MB section `firstSection + i`.
    public let chunks: [Chunk]
    // SAFETY: one mmap per chunk, made in init and unmapped only in deinit, so every pointer is
    // valid for its chunk's length for the region's whole life.
    let pointers: [UnsafeMutableRawPointer]
    /// Accesses to this region without reference counting or bounds checks (see `RegionAccessor`).
    public let accessor: RegionAccessor

    init(
        fd: Int32, path: String, range: PhysicalRange, pageSize: UInt64, writable: Bool,
        explainPermission: (PhysicalRange) -> String
    ) throws(IOGateError) {
        self.range = range
        let plan = ChunkPlanner.plan(range, pageSize: pageSize)
        // SAFETY: filled with successful mmaps only; on a failure those made so far are unmapped.
        var pointers: [UnsafeMutableRawPointer] = []
        for chunk in plan {
            guard let offset = off_t(exactly: chunk.base) else {
                pointers.forEach { p in munmap(p, 0) }
                throw IOGateError(.mapping, "\(chunk) of \(range) lies above the largest file offset this system can map (2^63)")
            }
            let prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
            let p = mmap(nil, Int(chunk.length), prot, MAP_SHARED, fd, offset)
            guard let p, p != MAP_FAILED else {
                let e = errno
                for (c, q) in zip(plan, pointers) { munmap(q, Int(c.length)) }
                var message = "mmap of \(chunk) of \(range) on \(path) failed: \(String(cString: strerror(e)))"
                if e == EPERM { message += explainPermission(range) }
                throw IOGateError(.mapping, message)
            }
            pointers.append(p)
        }
        self.chunks = plan
        self.pointers = pointers
        accessor = RegionAccessor(chunks: plan, pointers: pointers)
    }

    deinit {
        // SAFETY: each pointer came from mmap with its chunk's length and is unmapped once; the
        // accessor's table is freed once, after the last access (the region is being destroyed).
        for (c, p) in zip(chunks, pointers) { munmap(p, Int(c.length)) }
        accessor.deallocate()
    }

    /// Loads `width` bytes at `address`. After a bus fault it returns 0 and the fault waits in
    /// `BusFault.take()`; further accesses on this thread do nothing until it is taken.
    @inlinable @inline(__always)
    public func load(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        accessor.load(address, width)
    }

    /// Stores the low `width` bytes of `value` at `address`; after a bus fault, see `load`.
    @inlinable @inline(__always)
    public func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        accessor.store(address, width, value)
    }
}

/// The register accesses of one `MappedRegion`, as a plain value: a table of per-chunk biases (the
/// mapped address of physical address `a` in chunk `i` is `bias[i] + a`), so an access costs the
/// chunk index, one table load and the inlined guarded instruction, with no reference counting and
/// no bounds check in a loop. Valid while its region lives (the executor holds the window).
///
/// Callers guarantee that every address lies inside the region's range and is aligned to the
/// width (the policy checked it), so the access cannot leave its chunk.
public struct RegionAccessor {
    // SAFETY: one cell per chunk, allocated in init and freed in `release()` by the owning region, which
    // outlives every accessor it hands out.
    @usableFromInline let biases: UnsafeMutablePointer<Int>
    @usableFromInline let firstChunkBase: UInt64

    // SAFETY: `pointers` are the region's live mappings, one per chunk.
    init(chunks: [Chunk], pointers: [UnsafeMutableRawPointer]) {
        firstChunkBase = chunks[0].base
        biases = .allocate(capacity: chunks.count)
        for (i, (c, p)) in zip(chunks, pointers).enumerated() {
            // SAFETY: `biases` has one slot per chunk; the bias is only ever added to an address of that chunk.
            (biases + i).initialize(to: Int(bitPattern: p) &- Int(bitPattern: UInt(c.base)))
        }
    }

    func deallocate() { biases.deallocate() }

    /// The mapped address of `address` (inside the region, aligned: see the type's comment).
    @inlinable @inline(__always)
    func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
        let i = ChunkPlanner.chunkIndex(of: address, firstChunkBase: firstChunkBase)
        // SAFETY: i is the index of the chunk holding `address`, which lies in the region.
        return UnsafeMutableRawPointer(bitPattern: biases[i] &+ Int(bitPattern: UInt(address)))!
    }

    /// Loads `width` bytes at `address`. After a bus fault (now, or earlier on this thread and not
    /// yet taken) it returns 0 and the fault waits in `BusFault.take()`.
    @inlinable @inline(__always)
    public func load(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        let p = pointer(address)
        // SAFETY: p lies in a live mapping and is aligned to the width (checked by the policy); a
        // bus fault during the access is caught by the shim's handler, not fatal.
        switch width {
        case .byte:
            var v: UInt8 = 0
            _ = iogate_load8(p, &v, address)
            return UInt64(v)
        case .half:
            var v: UInt16 = 0
            _ = iogate_load16(p, &v, address)
            return UInt64(v)
        case .word:
            var v: UInt32 = 0
            _ = iogate_load32(p, &v, address)
            return UInt64(v)
        case .double:
            var v: UInt64 = 0
            _ = iogate_load64(p, &v, address)
            return v
        }
    }

    /// Stores the low `width` bytes of `value` at `address`; after a bus fault, see `load`.
    @inlinable @inline(__always)
    public func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        let p = pointer(address)
        // SAFETY: p lies in a live writable mapping and is aligned to the width (checked by the
        // policy); a bus fault during the access is caught by the shim's handler, not fatal.
        switch width {
        case .byte: _ = iogate_store8(p, UInt8(truncatingIfNeeded: value), address)
        case .half: _ = iogate_store16(p, UInt16(truncatingIfNeeded: value), address)
        case .word: _ = iogate_store32(p, UInt32(truncatingIfNeeded: value), address)
        case .double: _ = iogate_store64(p, value, address)
        }
    }

    /// A 32-bit load without the thread's pending fault: for a loop that checked
    /// `BusFault.isPending` once before it and stops when `faulted` becomes non-zero (then the
    /// value is 0, and the loop reports the fault with `BusFault.note`).
    @inlinable @inline(__always)
    public func tryLoad32(_ address: UInt64, _ faulted: inout Int32) -> UInt32 {
        // SAFETY: as `load`.
        iogate_try_load32(pointer(address), &faulted)
    }

    /// `tryLoad32` for any width.
    @inlinable @inline(__always)
    public func tryLoad(_ address: UInt64, _ width: AccessWidth, _ faulted: inout Int32) -> UInt64 {
        let p = pointer(address)
        // SAFETY: as `load`.
        switch width {
        case .byte: return UInt64(iogate_try_load8(p, &faulted))
        case .half: return UInt64(iogate_try_load16(p, &faulted))
        case .word: return UInt64(iogate_try_load32(p, &faulted))
        case .double: return iogate_try_load64(p, &faulted)
        }
    }

    /// A store without the thread's pending fault (see `tryLoad32`).
    @inlinable @inline(__always)
    public func tryStore(_ address: UInt64, _ width: AccessWidth, _ value: UInt64, _ faulted: inout Int32) {
        let p = pointer(address)
        // SAFETY: as `store`.
        switch width {
        case .byte: iogate_try_store8(p, UInt32(truncatingIfNeeded: value), &faulted)
        case .half: iogate_try_store16(p, UInt32(truncatingIfNeeded: value), &faulted)
        case .word: iogate_try_store32(p, UInt32(truncatingIfNeeded: value), &faulted)
        case .double: iogate_try_store64(p, value, &faulted)
        }
    }
}

/// Bus faults (SIGBUS) during register accesses: an unbacked physical address, a powered-down
/// block, or a device file truncated under the daemon. The handler turns the fault into a failed
/// access; the request that made it learns of it through `take()` and fails with its address,
/// while the daemon goes on serving everyone else.
public enum BusFault {
    /// Installs the SIGBUS handler; call once before serving. Idempotent.
    public static func installHandler() throws(IOGateError) {
        guard iogate_install_bus_fault_handler() == 0 else {
            if errno == ENOEXEC {
                throw IOGateError(
                    .system,
                    "this iogated has no guarded register accesses in its exception table (section iogate_extable): "
                        + "the linker dropped it, so a bus fault would kill the daemon; rebuild it with a linker that keeps "
                        + "SHF_GNU_RETAIN sections")
            }
            throw IOGateError(.system, "cannot install the SIGBUS handler: \(String(cString: strerror(errno)))")
        }
    }

    /// Whether faults are survivable on this CPU architecture (x86_64 and aarch64 are).
    public static var isGuarded: Bool { iogate_bus_fault_guard_available() != 0 }

    /// Whether an access on this thread faulted and the fault was not taken yet (a batch loop
    /// checks it once, then uses the `try` accesses of `RegionAccessor`).
    @inlinable
    public static var isPending: Bool { iogate_bus_fault_pending() != 0 }

    /// Records a fault at `address` found by a `try` access as the thread's pending fault (the
    /// first one wins), for `take()`.
    public static func note(_ address: UInt64) { iogate_note_bus_fault(address) }

    /// The number of guarded access instructions in this executable (its exception table).
    public static var guardedAccessCount: Int { iogate_guarded_access_count() }

    /// The physical address of the first access on this thread that faulted since the last call,
    /// or nil; re-arms the thread's accesses.
    @inlinable
    public static func take() -> UInt64? {
        var address: UInt64 = 0
        return iogate_take_bus_fault(&address) != 0 ? address : nil
    }
}
