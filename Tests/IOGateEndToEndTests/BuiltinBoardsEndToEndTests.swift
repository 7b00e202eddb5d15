import Foundation
import Glibc
import IOGateTestSupport
import Testing

/// A copied binary knows every board: no board directory anywhere near it.
@Suite struct BuiltinBoardsEndToEndTests {
    @Test func copiedBinariesNeedNoBoardFiles() throws {
        let dir = TempDir()
        for program in ["iogated", "iogate"] {
            try FileManager.default.copyItem(atPath: productsDirectory + "/" + program, toPath: dir.file(program))
        }
        let config = dir.file("iogate.toml")
        try """
        device = "mock"
        board = "rpi3"
        socket = "\(dir.file("s.sock"))"
        [[grant]]
        uid = 0
        windows = ["gpio"]
        access = "rw"
        """.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o600)
        let empty = dir.file("empty")
        mkdir(empty, 0o755)
        // $IOGATE_BOARDS names an empty directory: only the built-in boards are left.
        let check = try run(dir.file("iogated"), ["--config", config, "--check"], environment: ["IOGATE_BOARDS": empty])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("of board rpi3"), "\(check.stdout)")
        let list = try run(dir.file("iogate"), ["boards"], environment: ["IOGATE_BOARDS": empty])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").count == 12, "\(list.stdout)")
        // A board directory given explicitly overrides a built-in board by id.
        let custom = dir.file("custom")
        mkdir(custom, 0o755)
        let rpi3 = try String(contentsOfFile: repositoryRoot + "/boards/rpi3.toml", encoding: .utf8)
        try rpi3.replacingOccurrences(of: "name = \"", with: "name = \"Lab ").write(
            toFile: custom + "/rpi3.toml", atomically: false, encoding: .utf8)
        let show = try run(dir.file("iogate"), ["boards", "show", "rpi3", "--boards", custom])
        #expect(show.stdout.hasPrefix("rpi3: Lab "), "\(show.stdout)")
        let missing = try run(dir.file("iogate"), ["boards", "--boards", empty])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("holds no .toml board files"), "\(missing.stderr)")
    }
}
