/// Where register accesses go.
public enum DeviceChoice: Hashable, Sendable {
    /// A file mapped with `mmap`: `/dev/mem`, or any file standing in for physical memory.
    case path(String)
    /// The simulated board.
    case mock
    /// Registers that answer from a recorded trace (`replay:PATH`, docs/TRACE.md).
    case replay(String)
}

/// Which board describes the hardware.
public enum BoardChoice: Hashable, Sendable {
    case id(String)
    /// Match `/proc/device-tree/compatible`.
    case auto
}

/// What the daemon logs of client operations.
public enum AuditLevel: String, Sendable, CaseIterable {
    case none, writes, all
}

/// Resource limits; each has a default that serves a typical board.
public struct Limits: Hashable, Sendable {
    /// Largest frame payload accepted, in bytes.
    public var maxFrame = 1 << 20
    /// Most operations in one batch.
    public var maxBatch = 4096
    /// Most elements in one block read or write.
    public var maxBlock = 65536
    /// Most clients connected at once.
    public var maxClients = 1024
    /// Seconds a client may stay silent before it is disconnected (0: never).
    public var idleTimeoutSeconds = 600
    /// Ceiling on a wait-until timeout, in milliseconds.
    public var maxWaitMilliseconds = 10_000

    public init() {}
}

/// A grant as written in the configuration: subject names and window names not yet resolved.
public struct ConfigGrant: Hashable, Sendable {
    public var subject: Subject
    public var ranges: [PhysicalRange]
    public var windows: [String]
    public var access: Access
    public var allowRAM: Bool
    public var line: Int?
    /// `pins = [...]` or `pins = "user"`; nil when the grant names none.
    public var pins: PinSelection? = nil
    /// `bits = [...]`: one 32-bit mask per `IoBase`/`IoLen` range; empty when the grant has none.
    public var bits: [UInt32] = []
}

/// The pins a grant names.
public enum PinSelection: Hashable, Sendable {
    /// Pin numbers, as `iogate gpio` numbers them.
    case list([Int])
    /// `"user"`: the user pins of the board's header (`user_pins` in the board file).
    case user
}

/// The daemon configuration (`/etc/iogate/iogate.toml`).
public struct Config: Sendable {
    public var file: String
    public var device: DeviceChoice = .path("/dev/mem")
    public var board: BoardChoice?
    public var socket = "/run/iogate/iogate.sock"
    public var socketMode: UInt32 = 0o660
    public var socketGroup: String?
    /// The account to drop to after mapping; nil means stay as started.
    public var user: Subject?
    /// Where to append the access trace, if anywhere.
    public var trace: String?
    public var audit: AuditLevel = .writes
    /// Whether the daemon confines itself with a seccomp filter after start.
    public var seccomp = true
    /// Whether writes that would change a GPIO line a kernel driver or program has claimed are refused.
    public var protectKernelLines = true
    public var limits = Limits()
    public var grants: [ConfigGrant] = []
    /// The pigpio frontend's TCP address (`pigpio_listen`); nil leaves it off.
    public var pigpioListen: PigpioEndpoint?
    /// Whether `pigpio_listen` may be a non-loopback address (`pigpio_allow_remote`).
    public var pigpioAllowRemote = false
    /// The account whose grants pigpio clients get (`pigpio_as`); required with `pigpio_listen`.
    public var pigpioAs: Subject?

    static let topKeys = [
        "device", "board", "socket", "socket_mode", "socket_group", "user", "trace", "audit", "seccomp", "protect_kernel_lines", "limits",
        "grant", "pigpio_listen", "pigpio_allow_remote", "pigpio_as",
    ]
    static let grantKeys = ["uid", "gid", "user", "group", "IoBase", "IoLen", "windows", "access", "allow_ram", "pins", "bits"]
    static let limitKeys = ["max_frame", "max_batch", "max_block", "max_clients", "idle_timeout_s", "max_wait_ms"]

    /// Parses the configuration text; every error names the file, the line and what is expected.
    public static func parse(text: String, file: String) throws(IOGateError) -> Config {
        let doc = try TOMLDocument(text: text, file: file, code: .config)
        let top = TOMLSection(root: doc, code: .config)
        try top.checkKeys(topKeys)
        var c = Config(file: file)
        if let d = try top.string("device") {
            guard !d.isEmpty else { throw top.error("'device' is empty; expected a path such as /dev/mem, or \"mock\"", key: "device") }
            if d.hasPrefix("replay:") {
                guard d.count > 7 else {
                    throw top.error("'device' is \"replay:\" with no trace file; expected \"replay:PATH\"", key: "device")
                }
                c.device = .replay(String(d.dropFirst(7)))
            } else {
                c.device = d == "mock" ? .mock : .path(d)
            }
        }
        if let b = try top.string("board") { c.board = b == "auto" ? .auto : .id(b) }
        if let s = try top.string("socket") {
            guard s.hasPrefix("/") else { throw top.error("'socket' is \"\(s)\"; expected an absolute path", key: "socket") }
            c.socket = s
        }
        if let m = try top.string("socket_mode") {
            guard (3...4).contains(m.count), m.allSatisfy({ ("0"..."7").contains($0) }), let v = UInt32(m, radix: 8), v <= 0o777 else {
                throw top.error(
                    "'socket_mode' is \"\(m)\"; expected octal permission digits in a string, such as \"0660\"", key: "socket_mode")
            }
            c.socketMode = v
        }
        c.socketGroup = try top.string("socket_group")
        if let u = top.table["user"] {
            if let n = u.integer, let uid = UInt32(exactly: n) {
                c.user = .uid(uid)
            } else if let s = u.string, !s.isEmpty {
                c.user = .user(s)
            } else {
                throw top.error("'user' must be a user name or a numeric uid", key: "user")
            }
        }
        c.trace = try top.string("trace")
        if let a = try top.string("audit") {
            guard let level = AuditLevel(rawValue: a) else {
                throw top.error("'audit' is \"\(a)\"; expected \"none\", \"writes\" or \"all\"", key: "audit")
            }
            c.audit = level
        }
        if let b = try top.bool("seccomp") { c.seccomp = b }
        if let b = try top.bool("protect_kernel_lines") { c.protectKernelLines = b }
        if let l = try top.subtable("limits") { c.limits = try parseLimits(l) }
        try parsePigpio(top, into: &c)
        let grantSections = try top.tables("grant")
        guard !grantSections.isEmpty else {
            throw top.error(
                "no [[grant]] tables; at least one grant is needed, e.g. [[grant]] group = \"gpio\" windows = [\"gpio\"] access = \"rw\"")
        }
        for g in grantSections { c.grants.append(try parseGrant(g, board: c.board)) }
        return c
    }

    static func parseLimits(_ s: TOMLSection) throws(IOGateError) -> Limits {
        try s.checkKeys(limitKeys)
        var l = Limits()
        func get(_ key: String, _ range: ClosedRange<UInt64>) throws(IOGateError) -> Int? {
            guard let v = try s.uint64(key) else { return nil }
            guard range.contains(v) else { throw s.error("'\(key)' is \(v); allowed: \(range.lowerBound)...\(range.upperBound)", key: key) }
            return Int(v)
        }
        if let v = try get("max_frame", 64...(64 << 20)) { l.maxFrame = v }
        if let v = try get("max_batch", 1...1_000_000) { l.maxBatch = v }
        if let v = try get("max_block", 1...(16 << 20)) { l.maxBlock = v }
        if let v = try get("max_clients", 1...100_000) { l.maxClients = v }
        if let v = try get("idle_timeout_s", 0...86_400) { l.idleTimeoutSeconds = v }
        if let v = try get("max_wait_ms", 1...3_600_000) { l.maxWaitMilliseconds = v }
        return l
    }

    static func parseGrant(_ g: TOMLSection, board: BoardChoice?) throws(IOGateError) -> ConfigGrant {
        try g.checkKeys(grantKeys)
        var subjects: [Subject] = []
        for key in ["uid", "gid"] {
            if let v = try g.uint64(key) {
                guard let id = UInt32(exactly: v) else { throw g.error("'\(key)' is \(v); expected a 32-bit id", key: key) }
                subjects.append(key == "uid" ? .uid(id) : .gid(id))
            }
        }
        if let u = try g.string("user") { subjects.append(.user(u)) }
        if let gr = try g.string("group") { subjects.append(.group(gr)) }
        guard subjects.count == 1 else {
            throw g.error(
                "a grant names exactly one of uid, gid, user, group; this one names \(subjects.count == 0 ? "none" : subjects.map(\.description).joined(separator: " and "))"
            )
        }
        let bases = try g.uint64Array("IoBase") ?? []
        let lens = try g.uint64Array("IoLen") ?? []
        guard bases.count == lens.count else {
            throw g.error(
                "IoBase has \(bases.count) entries but IoLen has \(lens.count); they must pair up", key: g.has("IoLen") ? "IoLen" : "IoBase"
            )
        }
        var ranges: [PhysicalRange] = []
        for (b, l) in zip(bases, lens) {
            do { ranges.append(try PhysicalRange(base: b, length: l)) } catch { throw g.error(error.message, key: "IoLen") }
        }
        let windows = try g.stringArray("windows") ?? []
        if !windows.isEmpty && board == nil {
            throw g.error("'windows' names board windows but no board is set; add board = \"<id>\" or \"auto\"", key: "windows")
        }
        let pins = try parsePins(g, board: board)
        var bits: [UInt32] = []
        if let masks = try g.uint64Array("bits") {
            guard masks.count == ranges.count else {
                throw g.error(
                    "bits has \(masks.count) entries but IoBase/IoLen have \(ranges.count); give one 32-bit mask per range", key: "bits")
            }
            for (m, r) in zip(masks, ranges) {
                guard let m32 = UInt32(exactly: m), m32 != 0 else {
                    throw g.error(
                        "bits mask \(hex(m)) is \(m == 0 ? "empty" : "wider than 32 bits"); a mask holds the bits of each 32-bit register of its range (0x1...0xFFFFFFFF)",
                        key: "bits")
                }
                guard r.base % 4 == 0, r.length % 4 == 0 else {
                    throw g.error("range \(r) with a bits mask must start and end on a 32-bit register (multiples of 4)", key: "bits")
                }
                bits.append(m32)
            }
        }
        guard !ranges.isEmpty || !windows.isEmpty || pins != nil else {
            throw g.error("a grant needs IoBase/IoLen ranges, windows = [...] or pins = [...]")
        }
        guard let accessText = try g.string("access") else { throw g.error("missing required key 'access' (\"ro\" or \"rw\")") }
        guard let access = Access(rawValue: accessText) else {
            throw g.error("'access' is \"\(accessText)\"; expected \"ro\" or \"rw\"", key: "access")
        }
        return ConfigGrant(
            subject: subjects[0], ranges: ranges, windows: windows, access: access,
            allowRAM: try g.bool("allow_ram") ?? false, line: g.line, pins: pins, bits: bits)
    }

    /// `pins = [17, 27]` or `pins = "user"`; nil when absent.
    static func parsePins(_ g: TOMLSection, board: BoardChoice?) throws(IOGateError) -> PinSelection? {
        guard let v = g.table["pins"] else { return nil }
        guard board != nil else {
            throw g.error(
                "'pins' names GPIO pins, which need the board's GPIO model, but no board is set; add board = \"<id>\" or \"auto\"",
                key: "pins")
        }
        if let s = v.string {
            guard s == "user" else { throw g.error("'pins' is \"\(s)\"; expected an array of pin numbers or \"user\"", key: "pins") }
            return .user
        }
        guard let list = try g.uint64Array("pins"), !list.isEmpty else {
            throw g.error("'pins' is empty; name pin numbers (pins = [17, 27]) or \"user\"", key: "pins")
        }
        var pins: [Int] = []
        for p in list {
            guard p < 4096 else { throw g.error("pin \(p) is out of range; pins are numbered as iogate gpio numbers them", key: "pins") }
            pins.append(Int(p))
        }
        return .list(Array(Set(pins)).sorted())
    }

    /// Resolves names: user and group names to ids, window names to ranges of `board`.
    public func policy(
        board: Board?, userID: (String) -> UInt32?, groupID: (String) -> UInt32?
    ) throws(IOGateError) -> Policy {
        var grants: [Grant] = []
        for (i, g) in self.grants.enumerated() {
            let at = "\(file):\(g.line.map(String.init) ?? "?"): [[grant]] #\(i + 1)"
            var subject = g.subject
            switch g.subject {
            case .user(let n):
                guard let u = userID(n) else { throw IOGateError(.config, "\(at): no user named '\(n)' on this system") }
                subject = .uid(u)
            case .group(let n):
                guard let gid = groupID(n) else { throw IOGateError(.config, "\(at): no group named '\(n)' on this system") }
                subject = .gid(gid)
            default: break
            }
            var ranges = g.ranges.enumerated().map { i, r in
                GrantedRange(range: r, window: nil, access: g.access, masks: i < g.bits.count ? RegisterMasks(bits: g.bits[i]) : nil)
            }
            for name in g.windows {
                guard let board else { throw IOGateError(.config, "\(at): window '\(name)' named but no board is set") }
                guard let w = board.window(named: name) else {
                    throw IOGateError(
                        .config,
                        "\(at): board '\(board.id)' has no window '\(name)'; its windows: \(board.windows.map(\.name).joined(separator: ", "))"
                    )
                }
                ranges.append(GrantedRange(range: w.range, window: name, access: g.access))
            }
            if let selection = g.pins {
                guard let board else { throw IOGateError(.config, "\(at): pins named but no board is set") }
                let pins: [Int]
                switch selection {
                case .list(let list): pins = list
                case .user:
                    guard let user = board.userPins else {
                        throw IOGateError(
                            .config,
                            "\(at): pins = \"user\" but board '\(board.id)' names no user pins (user_pins in its board file); list the pins, e.g. pins = [17, 27]"
                        )
                    }
                    pins = user
                }
                let pinRanges: [GrantedRange]
                do { pinRanges = try PinGrant.ranges(board: board, pins: pins, access: g.access) } catch {
                    throw IOGateError(.config, "\(at): \(error.message)")
                }
                for r in pinRanges where g.windows.contains(r.window ?? "") {
                    throw IOGateError(
                        .config,
                        "\(at): window '\(r.window ?? "")' is granted whole by windows = [...] and by pins too; drop it from one of them")
                }
                ranges += pinRanges
            }
            grants.append(Grant(subject: subject, ranges: ranges, access: g.access, allowRAM: g.allowRAM, line: g.line))
        }
        // Name IoBase ranges that coincide with a board window, so clients can use WINDOW+OFFSET.
        if let board {
            for gi in grants.indices {
                for ri in grants[gi].ranges.indices where grants[gi].ranges[ri].window == nil {
                    grants[gi].ranges[ri].window = board.windows.first { $0.range == grants[gi].ranges[ri].range }?.name
                }
            }
        }
        return Policy(grants: grants)
    }
}
