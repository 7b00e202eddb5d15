import IOGateCore
import Testing

private let rpi4: Board = {
    let catalog = try? BoardCatalog(files: BuiltinBoards.files.map { (file: $0.name, text: $0.text) })
    return try! catalog!.board(id: "rpi4")
}()

private let good = """
    # iogate-trace 1 board=rpi4
    R gpio+0x4 32 0x00000000 uid=1000 pid=42
    W gpio+0x4 32 0x00200000 uid=1000 pid=42
    # a comment

    W gpio+0x1C 32 0x00020000 uid=1000 pid=43
    R 0xFE215000+0x40 8 0x7F uid=1000 pid=44
    R gpio+0x34 32 0x00020000
    """

@Suite struct TraceFormatTests {
    @Test func headerAndLines() {
        #expect(TraceFormat.header(board: "rpi4") == "# iogate-trace 1 board=rpi4")
        #expect(TraceFormat.header(board: nil) == "# iogate-trace 1")
        #expect(
            TraceFormat.line(write: true, label: "gpio+0x1C", width: .word, value: 0x20000, uid: 1000, pid: 42)
                == "W gpio+0x1C 32 0x00020000 uid=1000 pid=42")
        #expect(
            TraceFormat.line(write: false, label: "uart0+0x18", width: .half, value: 0x90, uid: 0, pid: 7)
                == "R uart0+0x18 16 0x0090 uid=0 pid=7")
    }

    @Test func parsesRecordsWithTheirLinesAndAddresses() throws {
        let t = try Trace.parse(text: good, file: "t.log", board: rpi4)
        #expect(t.version == 1)
        #expect(t.board == "rpi4")
        #expect(
            t.records == [
                TraceRecord(line: 2, write: false, label: "gpio+0x4", address: 0xFE20_0004, width: .word, value: 0),
                TraceRecord(line: 3, write: true, label: "gpio+0x4", address: 0xFE20_0004, width: .word, value: 0x0020_0000),
                TraceRecord(line: 6, write: true, label: "gpio+0x1C", address: 0xFE20_001C, width: .word, value: 0x0002_0000),
                TraceRecord(line: 7, write: false, label: "0xFE215000+0x40", address: 0xFE21_5040, width: .byte, value: 0x7F),
                TraceRecord(line: 8, write: false, label: "gpio+0x34", address: 0xFE20_0034, width: .word, value: 0x0002_0000),
            ])
        #expect(t.records[2].description == "W gpio+0x1C 32 0x00020000")
    }

    @Test func whatTheDaemonWritesParsesBack() throws {
        let text =
            TraceFormat.header(board: "rpi4") + "\n"
            + TraceFormat.line(write: true, label: "gpio+0x28", width: .word, value: 1 << 17, uid: 5, pid: 6) + "\n"
        let t = try Trace.parse(text: text, file: "t.log", board: rpi4)
        #expect(t.records == [TraceRecord(line: 2, write: true, label: "gpio+0x28", address: 0xFE20_0028, width: .word, value: 1 << 17)])
    }

    /// Every bad trace is refused with the file, the line and what is wrong.
    @Test(arguments: [
        ("", "t.log: empty file"),
        ("R gpio+0x4 32 0x0", "t.log:1: not an iogate trace: the first line must be '# iogate-trace <version>'"),
        ("# iogate-trace 2 board=rpi4\n", "t.log:1: trace format version 2 is not supported; this build reads version 1"),
        ("# iogate-trace\n", "t.log:1: not an iogate trace"),
        ("# iogate-trace x\n", "t.log:1: the header '# iogate-trace x' has no format version"),
        ("# iogate-trace 1 colour=red\n", "t.log:1: unknown header field 'colour=red'"),
        ("# iogate-trace 1 board=rpi5\n", "t.log:1: the trace was recorded on board rpi5, but the replay runs board rpi4"),
        ("# iogate-trace 1\nX gpio+0x4 32 0x0\n", "t.log:2: unknown operation 'X'"),
        ("# iogate-trace 1\nR gpio+0x4 32\n", "t.log:2: 'R gpio+0x4 32' has 3 fields"),
        ("# iogate-trace 1\nR gpio 32 0x0\n", "t.log:2: place 'gpio' is not WINDOW+0xOFFSET"),
        ("# iogate-trace 1\nR gpio+4 32 0x0\n", "t.log:2: place 'gpio+4' is not WINDOW+0xOFFSET"),
        ("# iogate-trace 1\nR spi9+0x4 32 0x0\n", "t.log:2: place 'spi9+0x4': board rpi4 has no window 'spi9'"),
        ("# iogate-trace 1\nR gpio+0x4 24 0x0\n", "t.log:2: width '24' is not 8, 16, 32 or 64"),
        ("# iogate-trace 1\nR gpio+0x4 32 17\n", "t.log:2: value '17' is not a hex number"),
        ("# iogate-trace 1\nR gpio+0x4 8 0x100\n", "t.log:2: value 0x100 does not fit in 8 bits"),
        ("# iogate-trace 1\nR gpio+0x4 32 0x0 pid\n", "t.log:2: 'pid' after the value is not a key=value field"),
        ("# iogate-trace 1\nR 0xFFFFFFFFFFFFFFFF+0x4 32 0x0\n", "past the end of the address space"),
    ])
    func badTrace(_ text: String, _ message: String) {
        let error = expectThrows(IOGateError.self) { try Trace.parse(text: text, file: "t.log", board: rpi4) }
        #expect(error?.code == .config)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func windowPlacesNeedABoard() {
        let error = expectThrows(IOGateError.self) {
            try Trace.parse(text: "# iogate-trace 1\nR gpio+0x4 32 0x0\n", file: "t.log", board: nil)
        }
        #expect(error?.message.contains("t.log:2: place 'gpio+0x4' names a window, but the replay has no board") == true)
        // Raw places need none.
        #expect((try? Trace.parse(text: "# iogate-trace 1\nR 0x1000+0x4 32 0x0\n", file: "t.log", board: nil))?.records.count == 1)
    }
}

@Suite struct TraceReplayerTests {
    func replayer() throws -> TraceReplayer {
        TraceReplayer(trace: try Trace.parse(text: good, file: "t.log", board: rpi4), file: "t.log", board: rpi4)
    }

    @Test func theRecordedSessionReplaysWhole() throws {
        var r = try replayer()
        let first = r.load(0xFE20_0004, .word)
        let stores = [r.store(0xFE20_0004, .word, 0x0020_0000), r.store(0xFE20_001C, .word, 0x0002_0000)]
        let byte = r.load(0xFE21_5040, .byte)
        let early = r.verdict()
        let last = r.load(0xFE20_0034, .word)
        #expect(try first.get() == 0)
        #expect(stores == [nil, nil])
        #expect(try byte.get() == 0x7F)
        #expect(
            early?.message == "replay incomplete: 1 of 5 recorded accesses were never made, from t.log:8 (R gpio+0x34 32 0x00020000) on")
        #expect(try last.get() == 0x0002_0000)
        #expect(r.verdict() == nil)
        #expect(r.summary == "5 of 5 recorded accesses matched")
    }

    @Test(arguments: [
        (
            0xFE20_0004, AccessWidth.word, 0x0010_0000 as UInt64,
            "expected W gpio+0x4 32 0x00200000, got W gpio+0x4 32 0x00100000 (a different value)"
        ),
        (0xFE20_0008, .word, 0x0020_0000, "expected W gpio+0x4 32 0x00200000, got W gpio+0x8 32 0x00200000 (a different place)"),
        (0xFE20_0004, .half, 0x0020, "expected W gpio+0x4 32 0x00200000, got W gpio+0x4 16 0x0020 (a different width)"),
    ])
    func aDifferentStoreDivergesAtItsLine(_ address: UInt64, _ width: AccessWidth, _ value: UInt64, _ message: String) throws {
        var r = try replayer()
        _ = r.load(0xFE20_0004, .word)
        let diverged = r.store(address, width, value)
        // Every later access fails with the first divergence, and so does the verdict.
        let laterStore = r.store(0xFE20_001C, .word, 0x0002_0000)
        let laterLoad = r.load(0xFE20_0034, .word)
        let error = try #require(diverged)
        #expect(error.code == .badState)
        #expect(error.message == "replay diverged at t.log:3: \(message)")
        #expect(laterStore?.message == error.message)
        #expect(throws: IOGateError.self) { try laterLoad.get() }
        #expect(r.verdict()?.message == error.message)
        #expect(r.next == 1)
    }

    @Test func aLoadWhereTheTraceHasAStore() throws {
        var r = try replayer()
        _ = r.load(0xFE20_0004, .word)
        let load = r.load(0xFE20_0034, .word)
        let error = expectThrows(IOGateError.self) { try load.get() }
        #expect(
            error?.message
                == "replay diverged at t.log:3: expected W gpio+0x4 32 0x00200000, got R gpio+0x34 32 (a load where the trace has a store, a different place)"
        )
    }

    @Test func anAccessAfterTheLastRecord() throws {
        var r = TraceReplayer(
            trace: try Trace.parse(text: "# iogate-trace 1\nR 0x1000+0x0 32 0x5\n", file: "t.log", board: nil), file: "t.log", board: nil)
        let first = r.load(0x1000, .word)
        let error = r.store(0x1004, .word, 1)
        #expect(try first.get() == 5)
        #expect(
            error?.message
                == "replay diverged after the end of t.log (line 2, R 0x1000+0x0 32 0x00000005): got W 0x1004 32 0x00000001; the program made more accesses than were recorded"
        )
    }
}

@Suite struct ReplayDeviceConfigTests {
    @Test func replayDeviceNamesTheTrace() throws {
        let grant = "[[grant]]\nuid = 1000\nIoBase = [0x1000]\nIoLen = [0x100]\naccess = \"ro\"\n"
        let c = try Config.parse(text: "device = \"replay:/var/lib/ci/blink.trace\"\n" + grant, file: "c.toml")
        #expect(c.device == .replay("/var/lib/ci/blink.trace"))
        #expect(try Config.parse(text: "device = \"mock\"\n" + grant, file: "c.toml").device == .mock)
    }

    @Test func replayWithoutAPathIsRefused() {
        let error = expectThrows(IOGateError.self) { try Config.parse(text: "device = \"replay:\"\n", file: "c.toml") }
        #expect(error?.message == "c.toml:1: 'device' is \"replay:\" with no trace file; expected \"replay:PATH\"")
    }
}
