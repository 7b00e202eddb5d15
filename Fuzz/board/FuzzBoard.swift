// libFuzzer target: the board file parser, and detection over what it accepts.
// Built by scripts/fuzz.sh; see Fuzz/README.md.
import IOGateCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBoard(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    let board: Board
    do { board = try Board.parse(text: text, file: "fuzz.toml") } catch {
        guard error.message.hasPrefix("fuzz.toml") else { fatalError("board error does not name the file: \(error.message)") }
        return 0
    }
    guard !board.windows.isEmpty, !board.compatible.isEmpty else { fatalError("accepted a board without windows or compatible strings") }
    let catalog = BoardCatalog(boards: [board])
    guard (try? catalog.detect(compatible: board.compatible))?.id == board.id else {
        fatalError("board not detected by its own compatible list")
    }
    _ = try? catalog.detect(compatible: ["no,such-board"] + board.compatible.reversed())
    _ = try? catalog.detect(compatible: BoardCatalog.compatibleStrings(Array(text.utf8.prefix(256))))
    _ = try? catalog.board(id: board.id)
    for w in board.windows { guard board.window(named: w.name) != nil else { fatalError("window '\(w.name)' not found by name") } }
    _ = board.gpioWindows.count
    return 0
}
