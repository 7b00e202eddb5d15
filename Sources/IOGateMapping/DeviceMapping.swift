import CIOGateVolatile
import Glibc
import IOGateCore

/// The device (`/dev/mem` or a file standing in for it) with every granted range mapped in chunks.
///
/// This module is the only place IOGate does unsafe pointer work. The file descriptor is closed
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
    @usableFromInline let pointers: [UnsafeMutableRawPointer]
    @usableFromInline let firstChunkBase: UInt64

    init(
        fd: Int32, path: String, range: PhysicalRange, pageSize: UInt64, writable: Bool,
        explainPermission: (PhysicalRange) -> String
    ) throws(IOGateError) {
        self.range = range
        let plan = ChunkPlanner.plan(range, pageSize: pageSize)
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
        self.firstChunkBase = plan[0].base
    }

    deinit {
        // SAFETY: each pointer came from mmap with its chunk's length and is unmapped once.
        for (c, p) in zip(chunks, pointers) { munmap(p, Int(c.length)) }
    }

    /// The mapped address of `address`. The caller has checked that `address` lies inside `range`
    /// and is aligned to the access width, so the access cannot leave its chunk.
    @inlinable @inline(__always)
    func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
        let i = ChunkPlanner.chunkIndex(of: address, firstChunkBase: firstChunkBase)
        let chunkBase = i == 0 ? firstChunkBase : (firstChunkBase >> 25 + UInt64(i)) << 25
        return pointers[i] + Int(address - chunkBase)
    }

    @inlinable @inline(__always)
    public func load(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        let p = pointer(address)
        // SAFETY: p lies in a live mapping and is aligned to the width (checked by the policy).
        switch width {
        case .byte: return UInt64(iogate_load8(p))
        case .half: return UInt64(iogate_load16(p))
        case .word: return UInt64(iogate_load32(p))
        case .double: return iogate_load64(p)
        }
    }

    @inlinable @inline(__always)
    public func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        let p = pointer(address)
        // SAFETY: p lies in a live writable mapping and is aligned to the width (checked by the policy).
        switch width {
        case .byte: iogate_store8(p, UInt8(truncatingIfNeeded: value))
        case .half: iogate_store16(p, UInt16(truncatingIfNeeded: value))
        case .word: iogate_store32(p, UInt32(truncatingIfNeeded: value))
        case .double: iogate_store64(p, value)
        }
    }
}
