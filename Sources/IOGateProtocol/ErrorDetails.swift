import IOGateCore

/// The typed details of an error response (protocol version 3, docs/PROTOCOL.md section 7.1): after
/// the message, one zero byte, then records of `tag u8`, `length u8`, `length` bytes. A reader skips
/// tags it does not know by their length, so later versions can add some.
public enum ErrorDetailsCodec {
    /// Record tags.
    enum Tag: UInt8 {
        case address = 1, size = 2, granted = 3, pin = 4, consumer = 5, errno = 6, call = 7, operation = 8
    }

    /// The records take at most this many bytes; granted ranges past it are left out (the message
    /// still lists them all).
    static let limit = 1024

    /// Appends the records of `details` (nothing when it is empty; the caller writes the zero byte).
    static func append(_ d: IOGateError.Details, to bytes: inout [UInt8]) {
        let start = bytes.count
        func record(_ tag: Tag, _ value: [UInt8]) {
            guard value.count <= 255, bytes.count - start + 2 + value.count <= limit else { return }
            bytes.append(tag.rawValue)
            bytes.append(UInt8(value.count))
            bytes.append(contentsOf: value)
        }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        if let a = d.address { record(.address, le(a, 8)) }
        if let s = d.size { record(.size, le(s, 8)) }
        for g in d.granted {
            record(.granted, le(g.range.base, 8) + le(g.range.length, 8) + [g.access == .rw ? 1 : 0])
        }
        if let p = d.pin { record(.pin, le(UInt64(UInt32(truncatingIfNeeded: p)), 4)) }
        if let c = d.consumer { record(.consumer, Array(c.utf8.prefix(255))) }
        if let e = d.errno { record(.errno, le(UInt64(UInt32(bitPattern: e)), 4)) }
        if let c = d.call { record(.call, Array(c.utf8.prefix(255))) }
        if let o = d.operation { record(.operation, le(UInt64(UInt32(truncatingIfNeeded: o)), 4)) }
    }

    /// Reads the records after the zero byte. Records of unknown tags, or of a known tag with the
    /// wrong length, are skipped; a record cut short ends the list.
    static func decode(_ bytes: ArraySlice<UInt8>) -> IOGateError.Details {
        var d = IOGateError.Details()
        var i = bytes.startIndex
        func le(_ s: ArraySlice<UInt8>) -> UInt64 { s.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        while i + 2 <= bytes.endIndex {
            let tag = Tag(rawValue: bytes[i]), n = Int(bytes[i + 1])
            let v = bytes[(i + 2)...].prefix(n)
            guard v.count == n else { break }
            i += 2 + n
            switch (tag, n) {
            case (.address, 8): d.address = le(v)
            case (.size, 8): d.size = le(v)
            case (.granted, 17):
                let base = le(v.prefix(8)), length = le(v.dropFirst(8).prefix(8))
                if let range = try? PhysicalRange(base: base, length: length) {
                    d.granted.append(GrantedRange(range: range, access: v.last == 1 ? .rw : .ro))
                }
            case (.pin, 4): d.pin = Int(le(v))
            case (.consumer, _): d.consumer = String(decoding: v, as: UTF8.self)
            case (.errno, 4): d.errno = Int32(bitPattern: UInt32(le(v)))
            case (.call, _): d.call = String(decoding: v, as: UTF8.self)
            case (.operation, 4): d.operation = Int(le(v))
            default: continue
            }
        }
        return d
    }
}
