import ArgumentParser
import IOGate

struct Read: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read registers; prints each value as 0x plus zero-padded hex, one per line.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Physical address or WINDOW+OFFSET.") var addr: String
    @OptionGroup var width: WidthOption
    @Option(name: .long, help: "Number of consecutive registers to read.") var count: Int = 1
    @Flag(name: .long, help: "Print JSON: {\"address\": ..., \"width\": ..., \"values\": [...]} with hex strings.") var json = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        _ = try address(addr)
    }

    func run() throws {
        let gate = try global.connect()
        let base = try gate.resolve(try address(addr))
        let w = width.accessWidth
        let values = try gate.readBlocks(base, width: w, count: count)
        let texts = values.map { hex($0, digits: w.hexDigits) }
        if json {
            print(
                "{\"address\": \"\(hex(base))\", \"width\": \(w.bits), \"values\": [\(texts.map { "\"\($0)\"" }.joined(separator: ", "))]}")
        } else {
            print(texts.joined(separator: "\n"))
        }
    }
}

struct Write: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write one register.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Physical address or WINDOW+OFFSET.") var addr: String
    @Argument(help: "Value (hex, binary or decimal).") var value: String
    @OptionGroup var width: WidthOption

    func validate() throws {
        _ = try address(addr)
        try width.checkFits(try number(value, "VALUE"), "VALUE")
    }

    func run() throws {
        let gate = try global.connect()
        try gate.write(try gate.resolve(try address(addr)), try number(value, "VALUE"), width: width.accessWidth)
    }
}

struct Modify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Atomically set the bits of MASK to VALUE (new = old & ~mask | value & mask); prints the old value.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Physical address or WINDOW+OFFSET.") var addr: String
    @Option(name: .long, help: "Bits to change.") var mask: String
    @Option(name: .long, help: "New values of those bits.") var value: String
    @OptionGroup var width: WidthOption

    func validate() throws {
        _ = try address(addr)
        for (t, n) in [(mask, "--mask"), (value, "--value")] {
            try width.checkFits(try number(t, n), n)
        }
    }

    func run() throws {
        let gate = try global.connect()
        let w = width.accessWidth
        let old = try gate.modify(
            try gate.resolve(try address(addr)), mask: try number(mask, "--mask"), value: try number(value, "--value"), width: w)
        print(hex(old, digits: w.hexDigits))
    }
}

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait, inside the daemon, until (register & MASK) == VALUE; prints the value seen. Exit 1 on timeout.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Physical address or WINDOW+OFFSET.") var addr: String
    @Option(name: .long, help: "Bits to test.") var mask: String
    @Option(name: .long, help: "Value those bits must have.") var value: String
    @Option(name: .customLong("timeout-ms"), help: "Give up after this many milliseconds.") var timeoutMs: UInt32 = 1000
    @OptionGroup var width: WidthOption

    func validate() throws {
        _ = try address(addr)
        let m = try number(mask, "--mask"), v = try number(value, "--value")
        guard v & ~m == 0 else {
            throw ValidationError("--value \(hex(v)) has bits outside --mask \(hex(m)); the wait could never succeed")
        }
    }

    func run() throws {
        let gate = try global.connect()
        let w = width.accessWidth
        let seen = try gate.wait(
            try gate.resolve(try address(addr)), mask: try number(mask, "--mask"), value: try number(value, "--value"),
            width: w, timeoutMilliseconds: timeoutMs)
        print(hex(seen, digits: w.hexDigits))
    }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hex dump LENGTH bytes of registers, 16 bytes a line, read at --width.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Physical address or WINDOW+OFFSET.") var addr: String
    @Argument(help: "Number of bytes.") var length: String
    @OptionGroup var width: WidthOption

    func validate() throws {
        _ = try address(addr)
        let n = try number(length, "LENGTH")
        guard n > 0, n % UInt64(width.width / 8) == 0 else {
            throw ValidationError("LENGTH \(length) must be a positive multiple of the \(width.width)-bit width (\(width.width / 8) bytes)")
        }
        guard n <= 16 << 20 else { throw ValidationError("LENGTH \(length) is over the 16 MiB a dump prints") }
    }

    func run() throws {
        let gate = try global.connect()
        let base = try gate.resolve(try address(addr))
        let w = width.accessWidth
        let total = Int(try number(length, "LENGTH")) / w.bytes
        let values = try gate.readBlocks(base, width: w, count: total)
        let perLine = max(1, 16 / w.bytes)
        var i = 0
        while i < values.count {
            let line = values[i..<min(i + perLine, values.count)].map { String(hex($0, digits: w.hexDigits).dropFirst(2)) }
            print("\(hex(base + UInt64(i * w.bytes), digits: 8)): \(line.joined(separator: " "))")
            i += perLine
        }
    }
}

struct Windows: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the windows you may use.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let gs = try global.connect().grants()
        // What of an entry is granted: nothing to add for a whole range; pins or bits otherwise.
        func granted(_ g: GrantInfo) -> String? {
            if let bits = g.bits { return "bits \(hex(UInt64(bits), digits: 8))" }
            return g.pins.isEmpty ? nil : "pins " + RegisterMasks.ranges(g.pins.map { Int($0) })
        }
        if json {
            let items = gs.map { g in
                let w = g.window
                let extra =
                    g.bits.map { ", \"bits\": \"\(hex(UInt64($0), digits: 8))\"" }
                    ?? (g.pins.isEmpty ? "" : ", \"pins\": [\(g.pins.map(String.init).joined(separator: ", "))]")
                return
                    "{\"name\": \"\(w.name)\", \"base\": \"\(hex(w.base))\", \"length\": \"\(hex(w.length))\", \"access\": \"\(w.access.rawValue)\"\(extra)}"
            }
            print("[\(items.joined(separator: ", "))]")
            return
        }
        if gs.isEmpty {
            print("no windows are granted to you")
            return
        }
        let partial = gs.contains { !$0.isWhole }
        print("NAME".padding(12) + "BASE".padding(20) + "LENGTH".padding(12) + (partial ? "ACCESS".padding(8) + "GRANTED" : "ACCESS"))
        for g in gs {
            let w = g.window
            let line = (w.name.isEmpty ? "-" : w.name).padding(12) + hex(w.base).padding(20) + hex(w.length).padding(12)
            print(partial ? line + w.access.rawValue.padding(8) + (granted(g) ?? "all") : line + w.access.rawValue)
        }
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
