/// One `mmap` of part of a window: page-aligned, at most 32 MB, never crossing a multiple of 32 MB.
public struct Chunk: Hashable, Sendable, CustomStringConvertible {
    /// The first physical address mapped (page-aligned; it may lie below the window's base).
    public let base: UInt64
    /// The number of bytes mapped (a whole number of pages, at most 32 MB).
    public let length: UInt64

    /// Creates a chunk.
    public init(base: UInt64, length: UInt64) {
        self.base = base
        self.length = length
    }

    /// The last address inside the chunk.
    public var last: UInt64 { base &+ (length &- 1) }

    public var description: String { "chunk \(hex(base)) +\(hex(length))" }
}

/// Plans the chunks that map a physical range, as Windows CE's `VirtualCopy` required.
public enum ChunkPlanner {
    /// The section size no chunk may cross: 32 MB.
    public static let sectionSize: UInt64 = 0x200_0000

    /// Splits `range` into page-aligned chunks that never cross a 32 MB-aligned boundary.
    ///
    /// `pageSize` must be a power of two no larger than 32 MB.
    public static func plan(_ range: PhysicalRange, pageSize: UInt64) -> [Chunk] {
        precondition(pageSize > 0 && pageSize & (pageSize - 1) == 0 && pageSize <= sectionSize)
        let pageMask = pageSize - 1
        let firstPage = range.base & ~pageMask
        // Work with last bytes, not ends, so a range touching 2^64 cannot overflow.
        let lastByte = range.last | pageMask
        var chunks: [Chunk] = []
        var start = firstPage
        while true {
            let sectionLast = start | (sectionSize - 1)
            let chunkLast = min(sectionLast, lastByte)
            chunks.append(Chunk(base: start, length: chunkLast - start + 1))
            if chunkLast == lastByte { break }
            start = chunkLast + 1
        }
        return chunks
    }

    /// The index of the chunk holding `address`, given the plan's first chunk base.
    ///
    /// Chunk `i` covers section `firstSection + i`, so the lookup is arithmetic, not a search.
    @inlinable
    public static func chunkIndex(of address: UInt64, firstChunkBase: UInt64) -> Int {
        Int((address >> 25) &- (firstChunkBase >> 25))
    }
}
