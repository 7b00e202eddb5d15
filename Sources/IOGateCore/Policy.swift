/// What a grant allows: reads only, or reads and writes.
public enum Access: String, Sendable, Comparable {
    case ro
    case rw

    public static func < (a: Access, b: Access) -> Bool { a == .ro && b == .rw }
}

/// Who a grant is for. Names are resolved to ids when the daemon loads its configuration.
public enum Subject: Hashable, Sendable, CustomStringConvertible {
    case uid(UInt32)
    case gid(UInt32)
    case user(String)
    case group(String)

    public var description: String {
        switch self {
        case .uid(let u): "uid \(u)"
        case .gid(let g): "gid \(g)"
        case .user(let n): "user \(n)"
        case .group(let n): "group \(n)"
        }
    }
}

/// The kernel's account of a connected client: `SO_PEERCRED` plus supplementary groups.
public struct ClientIdentity: Hashable, Sendable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, pid: Int32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.groups = groups
    }

    public var description: String { "uid \(uid) (pid \(pid))" }

    /// True when the grant's subject (already resolved to an id) names this client.
    public func matches(_ subject: Subject) -> Bool {
        switch subject {
        case .uid(let u): u == uid
        case .gid(let g): g == gid || groups.contains(g)
        case .user, .group: false  // names are resolved before evaluation
        }
    }
}

/// A policy entry: who, which ranges, what access. Windows named in the configuration
/// are already translated to ranges here.
public struct Grant: Hashable, Sendable {
    /// Who the grant is for.
    public var subject: Subject
    /// The physical ranges, each with the window name it came from (nil for `IoBase`/`IoLen`).
    public var ranges: [GrantedRange]
    /// Read-only or read-write.
    public var access: Access
    /// Whether the grant may overlap "System RAM" in `/proc/iomem`.
    public var allowRAM: Bool
    /// The line of the `[[grant]]` table in the configuration, for messages.
    public var line: Int?

    public init(subject: Subject, ranges: [GrantedRange], access: Access, allowRAM: Bool = false, line: Int? = nil) {
        self.subject = subject
        self.ranges = ranges
        self.access = access
        self.allowRAM = allowRAM
        self.line = line
    }
}

/// A range with the access a client has to it and the window name, if any.
public struct GrantedRange: Hashable, Sendable, CustomStringConvertible {
    public var range: PhysicalRange
    public var window: String?
    public var access: Access
    /// The bits of each register this grant covers (`pins = [...]`, `bits = [...]`); nil: all of them.
    public var masks: RegisterMasks?

    public init(range: PhysicalRange, window: String? = nil, access: Access = .rw, masks: RegisterMasks? = nil) {
        self.range = range
        self.window = window
        self.access = access
        self.masks = masks
    }

    public var description: String {
        (window.map { "\($0) " } ?? "") + range.description + " (\(access.rawValue)\(masks.map { ", \($0)" } ?? ""))"
    }
}

/// The set of grants, evaluated for each client and each access.
public struct Policy: Sendable {
    /// The grants, subjects resolved to ids.
    public let grants: [Grant]

    public init(grants: [Grant]) { self.grants = grants }

    /// Every range any grant names (what the daemon must map).
    public var allRanges: [PhysicalRange] { grants.flatMap { $0.ranges.map(\.range) } }

    /// The ranges a client may use, with the strongest access any matching grant gives.
    public func allowlist(for client: ClientIdentity) -> Allowlist {
        var entries: [GrantedRange] = []
        for grant in grants where client.matches(grant.subject) {
            for r in grant.ranges {
                var e = r
                e.access = grant.access
                // Whole ranges merge as before; pin grants (or bit grants) over one range and of one
                // access merge their masks; a whole grant and a masked one stay apart (`check`
                // prefers the whole one), and so do a pin and a bit grant.
                if let i = entries.firstIndex(where: { $0.range == e.range && $0.masks?.isPins == e.masks?.isPins }),
                    e.masks == nil || entries[i].access == e.access
                {
                    entries[i].access = max(entries[i].access, e.access)
                    if entries[i].window == nil { entries[i].window = e.window }
                    if let a = entries[i].masks, let b = e.masks { entries[i].masks = a.union(b) }
                } else {
                    entries.append(e)
                }
            }
        }
        return Allowlist(client: client, entries: entries)
    }
}

/// One client's granted ranges; checks every access before it happens.
public struct Allowlist: Sendable {
    public let client: ClientIdentity
    public let entries: [GrantedRange]

    public init(client: ClientIdentity, entries: [GrantedRange]) {
        self.client = client
        self.entries = entries
    }

    /// Checks one access of `count` consecutive elements of `width` at `address`.
    ///
    /// The whole span must lie in one granted range, be aligned to the width, and be writable
    /// when `write` is set. Returns the index of the entry that allows it.
    @inlinable
    public func check(_ address: UInt64, width: AccessWidth, count: UInt64 = 1, write: Bool) throws(IOGateError) -> Int {
        let w = UInt64(width.rawValue)
        guard width != .double || AccessWidth.doubleIsSingleAccess else {
            throw IOGateError(.badWidth, "64-bit accesses are refused on this 32-bit CPU: they would be split into two 32-bit accesses")
        }
        guard address & (w - 1) == 0 else {
            throw IOGateError(
                .misaligned, "address \(hex(address)) is not aligned to the \(width.bits)-bit width; it must be a multiple of \(w)",
                details: .init(address: address, size: w))
        }
        let (size, overflow) = w.multipliedReportingOverflow(by: count)
        guard !overflow, count > 0, address.addingReportingOverflow(size - 1).overflow == false else {
            throw IOGateError(
                .outsideAllowlist, "access at \(hex(address)) of \(count) x \(width.bits)-bit wraps past 2^64",
                details: .init(address: address, granted: entries))
        }
        var readOnlyHit = -1, maskedHit = -1
        for i in entries.indices where entries[i].range.contains(address, size: size) {
            if !write || entries[i].access == .rw {
                // A whole grant wins over a pin or bit grant of the same range.
                if entries[i].masks == nil { return i }
                if maskedHit < 0 { maskedHit = i }
            } else {
                readOnlyHit = i
            }
        }
        if maskedHit >= 0 { return maskedHit }
        if readOnlyHit >= 0 {
            throw IOGateError(
                .readOnly,
                "write of \(width.bits) bits at \(hex(address)) refused: \(client) has only read access to \(entries[readOnlyHit])",
                details: .init(address: address, size: size, granted: [entries[readOnlyHit]]))
        }
        throw refusal(address, size: size, width: width)
    }

    @usableFromInline
    func refusal(_ address: UInt64, size: UInt64, width: AccessWidth) -> IOGateError {
        if entries.isEmpty {
            return IOGateError(
                .outsideAllowlist, "\(client) has no grant; access of \(size) bytes at \(hex(address)) refused",
                details: .init(address: address, size: size))
        }
        let granted = entries.map(\.description).joined(separator: ", ")
        return IOGateError(
            .outsideAllowlist,
            "access of \(size) bytes at \(hex(address)) (\(width.bits)-bit) is outside the allowlist of \(client); granted: [\(granted)]",
            details: .init(address: address, size: size, granted: entries))
    }
}
