/// One line of `/proc/iomem`: a physical range and what the kernel says owns it.
public struct IomemRegion: Hashable, Sendable, CustomStringConvertible {
    public var range: PhysicalRange
    public var name: String
    /// Nesting depth (indentation in the file).
    public var depth: Int

    public var description: String {
        "\(String(range.base, radix: 16))-\(String(range.last, radix: 16)) : \(name)"
    }

    /// True for memory the kernel uses as RAM or for its own image.
    public var isRAM: Bool { name == "System RAM" || name.hasPrefix("Kernel ") }
}

/// The parsed `/proc/iomem`.
public struct Iomem: Sendable {
    public let regions: [IomemRegion]

    /// Parses the text of `/proc/iomem`; unparsable lines are skipped.
    public init(text: String) {
        var out: [IomemRegion] = []
        for line in text.split(separator: "\n") {
            let depth = line.prefix { $0 == " " }.count / 2
            let body = line.drop { $0 == " " }
            guard let colon = body.range(of: " : ") else { continue }
            let span = body[..<colon.lowerBound].split(separator: "-")
            guard span.count == 2, let a = UInt64(span[0], radix: 16), let b = UInt64(span[1], radix: 16), b >= a,
                let r = try? PhysicalRange(base: a, length: b - a + 1)
            else { continue }
            out.append(IomemRegion(range: r, name: String(body[colon.upperBound...]), depth: depth))
        }
        regions = out
    }

    /// RAM or kernel-image regions that overlap `range`.
    public func ramOverlapping(_ range: PhysicalRange) -> [IomemRegion] {
        regions.filter { $0.isRAM && $0.range.overlaps(range) }
    }

    /// The most deeply nested regions that overlap `range` (drivers that claimed it), RAM excluded.
    public func claimsOverlapping(_ range: PhysicalRange) -> [IomemRegion] {
        let hits = regions.filter { !$0.isRAM && $0.range.overlaps(range) }
        let deepest = hits.map(\.depth).max() ?? 0
        return hits.filter { $0.depth == deepest }
    }

    /// True when every reported range starts at 0, as when an unprivileged reader sees `/proc/iomem`.
    public var isRedacted: Bool { !regions.isEmpty && regions.allSatisfy { $0.range.base == 0 } }
}

extension Substring {
    func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
