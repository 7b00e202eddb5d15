import Glibc

/// This process's executable code pages, as `/proc/self/smaps` lists them.
public enum CodePages {
    /// Drops the resident pages of every private, read-only, executable file mapping that holds no
    /// modified (anonymous) page, and returns how many bytes were resident there.
    ///
    /// The kernel may already reclaim such clean text pages at any time under memory pressure; this
    /// does it on purpose after start-up so that code run only once (runtime initialisation, TOML
    /// parsing, Foundation) does not count against the idle daemon. Code in use faults back in
    /// from the page cache. The corresponding C function is `madvise(MADV_DONTNEED)`.
    @discardableResult
    public static func release() -> Int {
        guard let f = fopen("/proc/self/smaps", "r") else { return 0 }
        defer { fclose(f) }
        var candidates: [(start: UInt, end: UInt, rss: Int)] = []
        var current: (start: UInt, end: UInt, rss: Int)?
        var isCode = false
        // SAFETY: getline owns this buffer (it mallocs and grows it); it is freed once, below.
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, f) > 0, let line {
            let text = String(cString: line)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-")
                // Private r-x mappings of a file (not [vdso] and the like).
                isCode = fields.count >= 6 && fields[1] == "r-xp" && fields[5].hasPrefix("/")
                current = (UInt(bounds[0], radix: 16) ?? 0, UInt(bounds.last ?? "", radix: 16) ?? 0, 0)
            } else if isCode, fields.first == "Rss:", fields.count >= 2 {
                current?.rss = (Int(fields[1]) ?? 0) * 1024
            } else if isCode, fields.first == "Anonymous:", fields.count >= 2, let c = current {
                if fields[1] == "0" && c.rss > 0 && c.end > c.start { candidates.append(c) }
                isCode = false
            }
        }
        var released = 0
        for c in candidates {
            // SAFETY: the range is a clean private file mapping (no anonymous page): dropping its
            // pages loses nothing, the next access reads the same bytes back from the file.
            if madvise(UnsafeMutableRawPointer(bitPattern: c.start), Int(c.end - c.start), MADV_DONTNEED) == 0 {
                released += c.rss
            }
        }
        return released
    }
}
