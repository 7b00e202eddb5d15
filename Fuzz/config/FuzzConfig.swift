// libFuzzer target: the daemon configuration parser, and policy resolution of what it accepts.
// Built by scripts/fuzz.sh; see Fuzz/README.md.
import IOGateCore

/// A board for resolving window names, parsed once.
private let board: Board = {
    let text = """
        id = "fuzz-board"
        name = "Fuzz board"
        soc = "none"
        compatible = ["fuzz,board"]
        [[window]]
        name = "gpio"
        base = 0xFE200000
        length = 0x1000
        model = "bcm2711"
        pins = 58
        source = "fuzz"
        [[window]]
        name = "pwm"
        base = 0xFE20C000
        length = 0x100
        source = "fuzz"
        """
    do { return try Board.parse(text: text, file: "fuzz-board.toml") } catch { fatalError("fixture board: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    let config: Config
    do { config = try Config.parse(text: text, file: "fuzz.toml") } catch {
        guard error.message.hasPrefix("fuzz.toml") else { fatalError("config error does not name the file: \(error.message)") }
        return 0
    }
    for b in [board, nil] as [Board?] {
        _ = try? config.policy(board: b, userID: { $0.count % 2 == 0 ? UInt32($0.count) : nil }, groupID: { _ in 4242 })
        _ = try? config.policy(board: b, userID: { _ in nil }, groupID: { _ in nil })
        if let policy = try? config.policy(board: b, userID: { _ in 1000 }, groupID: { _ in 1000 }) {
            _ = policy.allRanges.count
            _ = PhysicalRange.union(policy.allRanges)
            let allow = policy.allowlist(for: ClientIdentity(uid: 1000, gid: 1000, pid: 1, groups: [4242]))
            for (i, e) in allow.entries.enumerated() {
                guard (try? allow.check(e.range.base, width: .byte, write: false)) != nil else { fatalError("granted base refused: \(e)") }
                _ = try? allow.check(e.range.last, width: .word, count: 2, write: true)
                _ = try? allow.check(e.range.last &+ 1, width: .byte, write: false)
                // Pin and bit grants: what an access becomes, at the range's ends and in every width.
                if e.masks != nil {
                    for (offset, width) in [(0, AccessWidth.word), (4, .byte), (8, .double), (0x1c, .half)] as [(UInt64, AccessWidth)] {
                        for kind in [AccessKind.read, .write, .modify] {
                            _ = try? allow.masked(i, e.range.base &+ offset, width: width, kind: kind, value: 0xFFFF, mask: 0xF0F0)
                        }
                    }
                }
            }
        }
    }
    return 0
}
