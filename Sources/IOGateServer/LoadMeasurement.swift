import IOGateCore
import IOGateMapping
import IOGateSystem

/// `iogated --measure-loads FILE BASE COUNT`, for `iogate bench`: times the daemon's own register
/// path on the first page at `BASE` of `FILE`, inside the daemon binary, so the client binary does
/// not link the mapping code and the figure is the daemon's as compiled.
enum LoadMeasurement {
    /// Prints "inlined existential" nanoseconds per 32-bit load, best of 5 runs of `count` loads each:
    /// `MappedRegion.load` called directly (inlined), and through the `RegisterSpace` existential as
    /// `ClientAccess` calls it.
    static func run(file: String, base: UInt64, count: Int) throws(IOGateError) -> (inlined: Double, existential: Double) {
        let mapping = try DeviceMapping(path: file, ranges: [try PhysicalRange(base: base, length: 4096)], writableRanges: [])
        let region = mapping.regions[0]
        let space: RegisterSpace = region
        var best = (Double.infinity, Double.infinity)
        var sum: UInt64 = 0
        for _ in 0..<5 {
            var t = monotonicNanoseconds()
            for i in 0..<count { sum &+= region.load(base &+ UInt64(i & 1023) &* 4, .word) }
            best.0 = min(best.0, Double(monotonicNanoseconds() - t) / Double(count))
            t = monotonicNanoseconds()
            for i in 0..<count { sum &+= space.load(base &+ UInt64(i & 1023) &* 4, .word) }
            best.1 = min(best.1, Double(monotonicNanoseconds() - t) / Double(count))
        }
        if sum == 42 { print("(checksum \(sum))") }  // keeps the loads observable
        return best
    }
}
