import IOGateCore
import Testing

private let file = "/etc/iogate/iogate.toml"

private let fullConfigText = """
    # IOGate daemon configuration
    device = "/dev/mem"
    board = "testboard"
    socket = "/run/iogate/iogate.sock"
    socket_mode = "0640"
    socket_group = "gpio"
    user = "iogate"
    trace = "/var/log/iogate.trace"
    audit = "all"

    [limits]
    max_frame = 65536
    max_batch = 256
    max_block = 1024
    max_clients = 16
    idle_timeout_s = 0
    max_wait_ms = 5000

    [[grant]]
    group = "gpio"
    windows = ["gpio"]
    access = "rw"

    [[grant]]
    uid = 1000
    IoBase = [0xFE201000, 0xFE204000]
    IoLen = [0x200, 0x200]
    access = "ro"

    [[grant]]
    gid = 997
    IoBase = [0x1f000d0000]
    IoLen = [0xc000]
    windows = ["uart0"]
    access = "rw"
    allow_ram = true

    [[grant]]
    user = "pi"
    windows = ["gpio", "uart0"]
    access = "ro"
    """

/// A board small enough to read at a glance; window names and ranges are the Pi 4's.
private let testBoard = try! Board.parse(
    text: """
        id = "testboard"
        name = "Test board"
        soc = "TEST1"
        compatible = ["acme,test"]

        [[window]]
        name = "gpio"
        base = 0xFE200000
        length = 0xF4
        model = "bcm2711"
        pins = 58
        source = "test"

        [[window]]
        name = "uart0"
        base = 0xFE201000
        length = 0x200
        source = "test"
        """, file: "testboard.toml")

private let grantRW = """
    [[grant]]
    uid = 1000
    IoBase = [0xFE200000]
    IoLen = [0x100]
    access = "rw"
    """

/// The 1-based line of the first line of `text` containing `marker`.
private func line(of marker: String, in text: String) -> Int? {
    text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(marker) }.map { $0 + 1 }
}

private func range(_ base: UInt64, _ length: UInt64) -> PhysicalRange { try! PhysicalRange(base: base, length: length) }

/// One mistake a person makes in the configuration and what the error must say.
struct ConfigMistake: Sendable, CustomStringConvertible {
    var name: String
    var text: String
    /// The error must name the line holding this text; nil: the message names only the file.
    var at: String?
    var fragments: [String]
    var description: String { name }
}

private let mistakes: [ConfigMistake] = [
    ConfigMistake(
        name: "unknown top-level key", text: "socket = \"/run/x.sock\"\nsokcet_mode = \"0660\"\n\n" + grantRW, at: "sokcet_mode",
        fragments: ["unknown key 'sokcet_mode'", "did you mean 'socket_mode'?", "allowed keys: device, board, socket"]),
    ConfigMistake(
        name: "IOBase for IoBase",
        text: "[[grant]]\nuid = 1000\nIOBase = [0xFE200000]\nIoLen = [0x100]\naccess = \"rw\"\n", at: "IOBase",
        fragments: ["unknown key 'IOBase'", "did you mean 'IoBase'?", "in [[grant]] #1"]),
    ConfigMistake(
        name: "misspelt key in the second grant",
        text: grantRW + "\n\n[[grant]]\ngid = 20\nwindows = []\nIoBase = [0x1000]\nIoLen = [4]\nacess = \"ro\"\n",
        at: "acess", fragments: ["unknown key 'acess'", "did you mean 'access'?", "in [[grant]] #2"]),
    ConfigMistake(
        name: "unknown key in [limits]", text: "[limits]\nmax_batches = 5\n\n" + grantRW, at: "max_batches",
        fragments: ["unknown key 'max_batches'", "did you mean 'max_batch'?", "in [limits]"]),
    ConfigMistake(
        name: "socket_mode as an integer", text: "socket_mode = 660\n" + grantRW, at: "socket_mode",
        fragments: ["'socket_mode' is an integer; expected a string"]),
    ConfigMistake(
        name: "access as an integer", text: grantRW.replacingOccurrences("access = \"rw\"", "access = 1"), at: "access = 1",
        fragments: ["'access' is an integer; expected a string", "[[grant]] #1"]),
    ConfigMistake(
        name: "more bases than lengths", text: "[[grant]]\nuid = 1\nIoBase = [0xFE200000, 0xFE201000]\nIoLen = [0x100]\naccess = \"rw\"\n",
        at: "IoLen", fragments: ["IoBase has 2 entries but IoLen has 1; they must pair up"]),
    ConfigMistake(
        name: "IoBase without IoLen", text: "[[grant]]\nuid = 1\nIoBase = [0xFE200000]\naccess = \"rw\"\n",
        at: "IoBase", fragments: ["IoBase has 1 entries but IoLen has 0"]),
    ConfigMistake(
        name: "IoLen 0", text: grantRW.replacingOccurrences("IoLen = [0x100]", "IoLen = [0]"), at: "IoLen",
        fragments: ["range at 0xFE200000 has length 0", "at least 1"]),
    ConfigMistake(
        name: "grant naming two subjects",
        text: "[[grant]]\nuid = 1000\ngroup = \"gpio\"\nIoBase = [0x1000]\nIoLen = [4]\naccess = \"rw\"\n",
        at: "[[grant]]", fragments: ["exactly one of uid, gid, user, group", "this one names uid 1000 and group gpio"]),
    ConfigMistake(
        name: "grant naming no subject", text: "[[grant]]\nIoBase = [0x1000]\nIoLen = [4]\naccess = \"rw\"\n",
        at: "[[grant]]", fragments: ["exactly one of uid, gid, user, group; this one names none"]),
    ConfigMistake(
        name: "missing access", text: "[[grant]]\nuid = 1000\nIoBase = [0x1000]\nIoLen = [4]\n",
        at: "[[grant]]", fragments: ["missing required key 'access'", "\"ro\" or \"rw\""]),
    ConfigMistake(
        name: "bad access value", text: grantRW.replacingOccurrences("access = \"rw\"", "access = \"wr\""), at: "access",
        fragments: ["'access' is \"wr\"; expected \"ro\" or \"rw\""]),
    ConfigMistake(
        name: "socket_mode 0999", text: "socket_mode = \"0999\"\n" + grantRW, at: "socket_mode",
        fragments: ["'socket_mode' is \"0999\"", "octal", "\"0660\""]),
    ConfigMistake(
        name: "socket_mode with 0o", text: "socket_mode = \"0o660\"\n" + grantRW, at: "socket_mode", fragments: ["octal"]),
    ConfigMistake(
        name: "relative socket path", text: "socket = \"run/iogate.sock\"\n" + grantRW, at: "socket",
        fragments: ["'socket' is \"run/iogate.sock\"; expected an absolute path"]),
    ConfigMistake(
        name: "windows without board", text: "[[grant]]\ngroup = \"gpio\"\nwindows = [\"gpio\"]\naccess = \"rw\"\n", at: "windows",
        fragments: ["no board is set", "board = \"<id>\""]),
    ConfigMistake(
        name: "grant with neither ranges nor windows", text: "[[grant]]\nuid = 5\naccess = \"ro\"\n", at: "[[grant]]",
        fragments: ["needs IoBase/IoLen ranges, windows = [...] or pins = [...]"]),
    ConfigMistake(name: "no grants", text: "device = \"mock\"\n", at: nil, fragments: ["no [[grant]] tables"]),
    ConfigMistake(
        name: "max_batch 0", text: "[limits]\nmax_batch = 0\n\n" + grantRW, at: "max_batch",
        fragments: ["'max_batch' is 0; allowed: 1...1000000", "in [limits]"]),
    ConfigMistake(
        name: "[limits] header with a comment", text: "[ limits ]  # tuning\nmax_batch = 0\n\n" + grantRW, at: "max_batch",
        fragments: ["'max_batch' is 0", "in [limits]"]),
    ConfigMistake(
        name: "max_frame too small", text: "[limits]\nmax_frame = 10\n\n" + grantRW, at: "max_frame",
        fragments: ["'max_frame' is 10; allowed: 64...67108864"]),
    ConfigMistake(
        name: "idle_timeout_s too large", text: "[limits]\nidle_timeout_s = 0x100000\n\n" + grantRW, at: "idle_timeout_s",
        fragments: ["allowed: 0...86400"]),
    ConfigMistake(
        name: "negative uid", text: grantRW.replacingOccurrences("uid = 1000", "uid = -1"), at: "uid",
        fragments: ["'uid' is -1; it must not be negative"]),
    ConfigMistake(
        name: "negative IoBase", text: grantRW.replacingOccurrences("[0xFE200000]", "[-4096]"), at: "IoBase",
        fragments: ["'IoBase' is -4096; it must not be negative"]),
    ConfigMistake(
        name: "uid over 32 bits", text: grantRW.replacingOccurrences("uid = 1000", "uid = 0x100000000"), at: "uid",
        fragments: ["'uid' is 4294967296; expected a 32-bit id"]),
    ConfigMistake(
        name: "IoBase as a string", text: grantRW.replacingOccurrences("[0xFE200000]", "\"0xFE200000\""), at: "IoBase",
        fragments: ["'IoBase' is a string; expected an array"]),
    ConfigMistake(
        name: "IoBase entries as strings", text: grantRW.replacingOccurrences("[0xFE200000]", "[\"0xFE200000\"]"), at: "IoBase",
        fragments: ["'IoBase' is a string; expected an integer (hex allowed"]),
    ConfigMistake(
        name: "windows of integers", text: "board = \"rpi4\"\n" + grantRW.replacingOccurrences("access", "windows = [1]\naccess"),
        at: "windows",
        fragments: ["'windows' is an integer; expected an array of strings"]),
    ConfigMistake(
        name: "allow_ram as a string", text: grantRW + "\nallow_ram = \"yes\"\n", at: "allow_ram",
        fragments: ["'allow_ram' is a string; expected true or false"]),
    ConfigMistake(
        name: "bad audit level", text: "audit = \"verbose\"\n" + grantRW, at: "audit",
        fragments: ["'audit' is \"verbose\"; expected \"none\", \"writes\" or \"all\""]),
    ConfigMistake(name: "empty device", text: "device = \"\"\n" + grantRW, at: "device", fragments: ["'device' is empty"]),
    ConfigMistake(
        name: "user as a boolean", text: "user = true\n" + grantRW, at: "user", fragments: ["'user' must be a user name or a numeric uid"]),
    ConfigMistake(
        name: "grant as a plain table", text: "[grant]\nuid = 1\n", at: "[grant]",
        fragments: ["'grant' is a table; expected an array of tables ([[grant]])"]),
]

@Suite("Config")
struct ConfigTests {
    @Test func fullConfig() throws {
        let c = try Config.parse(text: fullConfigText, file: file)
        #expect(c.file == file)
        #expect(c.device == .path("/dev/mem"))
        #expect(c.board == .id("testboard"))
        #expect(c.socket == "/run/iogate/iogate.sock")
        #expect(c.socketMode == 0o640)
        #expect(c.socketGroup == "gpio")
        #expect(c.user == .user("iogate"))
        #expect(c.trace == "/var/log/iogate.trace")
        #expect(c.audit == .all)
        var limits = Limits()
        limits.maxFrame = 65536
        limits.maxBatch = 256
        limits.maxBlock = 1024
        limits.maxClients = 16
        limits.idleTimeoutSeconds = 0
        limits.maxWaitMilliseconds = 5000
        #expect(c.limits == limits)
        try #require(c.grants.count == 4)
        #expect(c.grants[0].subject == .group("gpio"))
        #expect(c.grants[0].ranges == [])
        #expect(c.grants[0].windows == ["gpio"])
        #expect(c.grants[0].access == .rw)
        #expect(c.grants[0].allowRAM == false)
        #expect(c.grants[0].line == line(of: "[[grant]]", in: fullConfigText))
        #expect(c.grants[1].subject == .uid(1000))
        #expect(c.grants[1].ranges == [range(0xFE20_1000, 0x200), range(0xFE20_4000, 0x200)])
        #expect(c.grants[1].access == .ro)
        #expect(c.grants[1].windows == [])
        #expect(c.grants[2].subject == .gid(997))
        #expect(c.grants[2].ranges == [range(0x1F_000D_0000, 0xC000)])  // above 4 GiB, lower-case hex
        #expect(c.grants[2].windows == ["uart0"])
        #expect(c.grants[2].allowRAM)
        #expect(c.grants[3].subject == .user("pi"))
        #expect(c.grants[3].windows == ["gpio", "uart0"])
        #expect(c.grants.map(\.line) == [19, 24, 30, 38])
    }

    @Test func defaults() throws {
        let c = try Config.parse(text: grantRW, file: file)
        #expect(c.device == .path("/dev/mem"))
        #expect(c.board == nil)
        #expect(c.socket == "/run/iogate/iogate.sock")
        #expect(c.socketMode == 0o660)
        #expect(c.socketGroup == nil)
        #expect(c.user == nil)
        #expect(c.trace == nil)
        #expect(c.audit == .writes)
        #expect(c.limits == Limits())
        try #require(c.grants.count == 1)
        let g = c.grants[0]
        #expect(g.subject == .uid(1000))
        #expect(g.ranges == [range(0xFE20_0000, 0x100)])
        #expect(g.windows == [])
        #expect(g.access == .rw)
        #expect(!g.allowRAM)
        #expect(g.line == 1)
    }

    // A stored array rather than a literal in the attribute: Swift 6.0.3 crashed on the closures there.
    static let topLevelChecks: [ConfigCheck] = [
        ConfigCheck("device = \"mock\"") { $0.device == .mock },
        ConfigCheck("device = \"/tmp/physmem.img\"") { $0.device == .path("/tmp/physmem.img") },
        ConfigCheck("board = \"auto\"") { $0.board == .auto },
        ConfigCheck("user = 0") { $0.user == .uid(0) },
        ConfigCheck("user = 65534") { $0.user == .uid(65534) },
        ConfigCheck("user = \"nobody\"") { $0.user == .user("nobody") },
        ConfigCheck("socket_mode = \"660\"") { $0.socketMode == 0o660 },
        ConfigCheck("socket_mode = \"0777\"") { $0.socketMode == 0o777 },
        ConfigCheck("socket_mode = \"0600\"") { $0.socketMode == 0o600 },
        ConfigCheck("audit = \"none\"") { $0.audit == AuditLevel.none },
    ]

    @Test(arguments: ConfigTests.topLevelChecks)
    func topLevelValues(check: ConfigCheck) throws {
        let c = try Config.parse(text: check.line + "\n" + grantRW, file: file)
        #expect(check.holds(c), "\(check.line)")
    }

    @Test(arguments: [
        ("uid = 0", Subject.uid(0)), ("gid = 4294967295", .gid(.max)), ("user = \"pi\"", .user("pi")), ("group = \"gpio\"", .group("gpio")),
    ])
    func subjects(line: String, subject: Subject) throws {
        let text = grantRW.replacingOccurrences("uid = 1000", line)
        #expect(try Config.parse(text: text, file: file).grants.first?.subject == subject)
    }

    @Test(arguments: mistakes)
    func mistake(_ m: ConfigMistake) throws {
        let error = expectThrows(IOGateError.self) { try Config.parse(text: m.text, file: file) }
        guard let error else { return }
        #expect(error.code == .config)
        if let at = m.at {
            let n = try #require(line(of: at, in: m.text))
            #expect(error.message.hasPrefix("\(file):\(n): "), "expected line \(n): \(error.message)")
        } else {
            #expect(error.message.hasPrefix("\(file): "), "\(error.message)")
        }
        for f in m.fragments {
            #expect(error.message.contains(f), "expected '\(f)' in: \(error.message)")
        }
    }

    @Test(arguments: [
        ("unterminated string", "uid = 1000\naccess = \"rw\n", 2),
        ("bad hex", "uid = 1000\nIoBase = [0xZZ]\n", 2),
        ("missing value", "uid = 1000\nIoLen = \n", 2),
        ("duplicate key", "uid = 1000\nuid = 1001\n", 2),
        ("unclosed array", "uid = 1000\nIoLen = [1, 2\naccess = \"rw\"\n", 3),
    ])
    func syntaxError(name: String, body: String, line: Int) throws {
        let text = "# config\n[[grant]]\n" + body
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: file) }
        guard let error else { return }
        #expect(error.code == .config)
        #expect(error.message.contains("TOML syntax error"), "\(error.message)")
        // file:LINE:COLUMN: ...
        let parts = error.message.split(separator: ":", maxSplits: 3)
        try #require(parts.count == 4, "\(error.message)")
        #expect(parts[0] == Substring(file))
        #expect(Int(parts[1]) == line + 2, "\(name): \(error.message)")
        #expect(Int(parts[2]).map { $0 >= 1 } == true, "no column in: \(error.message)")
    }

    @Test func integerTooLargeForTOML() throws {
        // TOML integers are signed 64-bit: 0x8000000000000000 and above cannot be written.
        let text = grantRW.replacingOccurrences("[0xFE200000]", "[0xFFFFFFFFFFFFF000]")
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: file) }
        #expect(error?.code == .config)
        #expect(error?.message.hasPrefix("\(file):\(line(of: "IoBase", in: text)!)") == true, "\(error?.message ?? "")")
    }

    @Test func largestRangeTOMLCanExpressDoesNotWrap() throws {
        // With both numbers at most 2^63 - 1 a range cannot wrap; the largest one is accepted.
        let text = grantRW.replacingOccurrences("[0xFE200000]", "[0x7FFFFFFFFFFFFFFF]").replacingOccurrences(
            "[0x100]", "[0x7FFFFFFFFFFFFFFF]")
        let c = try Config.parse(text: text, file: file)
        #expect(c.grants.first?.ranges.first?.last == 0xFFFF_FFFF_FFFF_FFFD)
    }

    // MARK: Resolving names

    private static func userID(_ name: String) -> UInt32? { ["pi": 1000, "iogate": 998][name] }
    private static func groupID(_ name: String) -> UInt32? { ["gpio": 997, "spi": 999][name] }

    @Test func policyResolvesNamesAndWindows() throws {
        let c = try Config.parse(text: fullConfigText, file: file)
        let policy = try c.policy(board: testBoard, userID: Self.userID, groupID: Self.groupID)
        let gpio = range(0xFE20_0000, 0xF4), uart = range(0xFE20_1000, 0x200)
        #expect(policy.grants.map(\.subject) == [.gid(997), .uid(1000), .gid(997), .uid(1000)])
        #expect(policy.grants[0].ranges == [GrantedRange(range: gpio, window: "gpio", access: .rw)])
        // An IoBase range equal to a board window takes its name; others stay unnamed.
        #expect(
            policy.grants[1].ranges == [
                GrantedRange(range: uart, window: "uart0", access: .ro),
                GrantedRange(range: range(0xFE20_4000, 0x200), window: nil, access: .ro),
            ])
        #expect(
            policy.grants[2].ranges == [
                GrantedRange(range: range(0x1F_000D_0000, 0xC000), access: .rw), GrantedRange(range: uart, window: "uart0", access: .rw),
            ])
        #expect(policy.grants[2].allowRAM)
        #expect(policy.grants[3].ranges.map(\.window) == ["gpio", "uart0"])
        #expect(policy.grants.map(\.line) == c.grants.map(\.line))

        // pi (uid 1000) is also in group gpio (997): rw on gpio wins over the ro of grant #4.
        let pi = policy.allowlist(for: ClientIdentity(uid: 1000, gid: 1000, pid: 1, groups: [997]))
        #expect(try pi.check(0xFE20_001C, width: .word, write: true) >= 0)
        #expect(try pi.check(0xFE20_1000, width: .word, write: true) >= 0)  // rw through grant #3
        let other = policy.allowlist(for: ClientIdentity(uid: 1000, gid: 1000, pid: 1))
        #expect(
            throws: IOGateError(
                .readOnly,
                "write of 32 bits at 0xFE20001C refused: uid 1000 (pid 1) has only read access to gpio 0xFE200000..<0xFE2000F4 (ro)")
        ) {
            _ = try other.check(0xFE20_001C, width: .word, write: true)
        }
    }

    @Test(arguments: [
        ("user = \"ghost\"", "no user named 'ghost' on this system"),
        ("group = \"ghosts\"", "no group named 'ghosts' on this system"),
    ])
    func unknownNamesRefused(subjectLine: String, fragment: String) throws {
        let text = "board = \"testboard\"\n\n" + grantRW + "\n\n" + grantRW.replacingOccurrences("uid = 1000", subjectLine)
        let c = try Config.parse(text: text, file: file)
        let error = expectThrows(IOGateError.self) { try c.policy(board: testBoard, userID: Self.userID, groupID: Self.groupID) }
        #expect(error?.code == .config)
        #expect(error?.message == "\(file):\(c.grants[1].line!): [[grant]] #2: \(fragment)")
    }

    @Test func unknownWindowListsTheBoardWindows() throws {
        let text = "board = \"testboard\"\n[[grant]]\nuid = 1\nwindows = [\"gpio\", \"spi0\"]\naccess = \"rw\"\n"
        let c = try Config.parse(text: text, file: file)
        let error = expectThrows(IOGateError.self) { try c.policy(board: testBoard, userID: Self.userID, groupID: Self.groupID) }
        #expect(error?.code == .config)
        #expect(error?.message == "\(file):2: [[grant]] #1: board 'testboard' has no window 'spi0'; its windows: gpio, uart0")
    }

    @Test func windowsNeedABoardWhenResolving() throws {
        let c = try Config.parse(text: "board = \"auto\"\n[[grant]]\nuid = 1\nwindows = [\"gpio\"]\naccess = \"rw\"\n", file: file)
        let error = expectThrows(IOGateError.self) { try c.policy(board: nil, userID: Self.userID, groupID: Self.groupID) }
        #expect(error?.message.contains("window 'gpio' named but no board is set") == true)
        // Numeric subjects and plain ranges need neither a board nor name lookups.
        let plain = try Config.parse(text: grantRW, file: file)
        let policy = try plain.policy(
            board: nil,
            userID: { _ in
                Issue.record("looked up a user"); return nil
            }, groupID: { _ in nil })
        #expect(
            policy.grants == [
                Grant(subject: .uid(1000), ranges: [GrantedRange(range: range(0xFE20_0000, 0x100), access: .rw)], access: .rw, line: 1)
            ])
    }
}

/// A line of configuration and a check of what it parses to.
struct ConfigCheck: Sendable, CustomStringConvertible {
    let line: String
    let holds: @Sendable (Config) -> Bool
    init(_ line: String, _ holds: @escaping @Sendable (Config) -> Bool) {
        self.line = line
        self.holds = holds
    }
    var description: String { line }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
