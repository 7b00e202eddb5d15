import Foundation
import IOGateTestSupport
import Testing

/// The optimizer deletes or merges plain loads from memory it thinks nothing else changes; register
/// reads must survive -O. These check the real path: `MappedRegion.load`/`store` and the batch
/// loop's `RegionAccessor.tryLoad`/`tryStore` (inlined into a probe compiled with the release
/// optimizer) must leave one guarded inline-assembly access per call, of its width, each listed in
/// the exception table; and in the built daemon every instruction the table lists must be exactly
/// one machine load or store, with nothing else the handler could resume.
@Suite struct VolatileIRTests {
    @Test func optimizedMappedRegionKeepsEveryRegisterAccess() throws {
        let dir = TempDir()
        let source = dir.file("probe.swift")
        try """
        import IOGateCore
        import IOGateMapping

        @inline(never)
        public func poll(_ region: MappedRegion, _ address: UInt64) -> UInt64 {
            let a = region.load(address, .word)
            let b = region.load(address, .word)  // a plain load would be merged with the first
            region.store(address, .word, 1)
            region.store(address, .word, 1)  // a plain store would be merged with this one
            return a &+ b
        }

        @inline(never)
        public func widths(_ region: MappedRegion, _ address: UInt64) -> UInt64 {
            var f: Int32 = 0
            let r = region.accessor
            var sum = r.tryLoad(address, .byte, &f) &+ r.tryLoad(address, .half, &f)
            sum &+= UInt64(r.tryLoad32(address, &f)) &+ r.tryLoad(address, .double, &f)
            r.tryStore(address, .byte, 1, &f)
            r.tryStore(address, .half, 1, &f)
            r.tryStore(address, .word, 1, &f)
            r.tryStore(address, .double, 1, &f)
            return sum &+ UInt64(f)
        }
        """.write(toFile: source, atomically: false, encoding: .utf8)
        let swiftc = ProcessInfo.processInfo.environment["SWIFTC"] ?? "/opt/swift/usr/bin/swiftc"
        // The package's own modules as this test run built them, C module maps included.
        let moduleMaps = try FileManager.default.contentsOfDirectory(atPath: productsDirectory)
            .filter { $0.hasSuffix(".build") && FileManager.default.fileExists(atPath: productsDirectory + "/" + $0 + "/module.modulemap") }
            .flatMap { ["-Xcc", "-fmodule-map-file=\(productsDirectory)/\($0)/module.modulemap"] }
        let args =
            ["-O", "-emit-ir", "-parse-as-library", "-I", productsDirectory + "/Modules"] + moduleMaps + ["-module-name", "Probe", source]
        let r = try run(swiftc, args)
        #expect(r.status == 0, "\(r.stderr)")
        func body(_ name: String) -> String {
            r.stdout.components(separatedBy: "define ").first { $0.prefix { $0 != "\n" }.contains(name) } ?? ""
        }
        /// The guarded accesses in a function's IR: the first line of each inline assembly.
        func accesses(_ name: String) -> [String] {
            body(name).components(separatedBy: "asm sideeffect \"1: ").dropFirst().map { String($0.prefix { $0 != "\\" }) }
        }
        let poll = body("4poll")
        #expect(!poll.contains("call i32 @iogate_"), "no call per access: \(poll)")
        #expect(poll.components(separatedBy: "iogate_extable").count - 1 == 4, "four table entries: \(poll)")
        #if arch(x86_64)
            #expect(accesses("4poll").map { $0.split(separator: " ").first ?? "" } == ["movl", "movl", "movl", "movl"], "\(poll)")
            let widths = ["movzbl", "movzwl", "movl", "movq", "movb", "movw", "movl", "movq"]
        #else
            #expect(accesses("4poll").map { $0.split(separator: " ").first ?? "" } == ["ldr", "ldr", "str", "str"], "\(poll)")
            let widths = ["ldrb", "ldrh", "ldr", "ldr", "strb", "strh", "str", "str"]
        #endif
        #expect(accesses("6widths").map { String($0.split(separator: " ").first ?? "") } == widths, "\(body("6widths"))")
    }

    /// No table entry was lost at link time: the daemon's table is exactly as large as the tables
    /// of the object files it is linked from (lld's section garbage collection dropped entries
    /// until they were marked SHF_GNU_RETAIN; a lost entry is an access whose bus fault kills).
    @Test func theLinkerKeepsEveryTableEntry() throws {
        func tableSize(_ file: String) throws -> Int {
            let r = try run("/usr/bin/readelf", ["-S", "-W", file])
            guard let line = r.stdout.split(separator: "\n").first(where: { $0.contains(" iogate_extable ") }) else { return 0 }
            let fields = line.split(separator: "]").last?.split(separator: " ") ?? []
            // Name, type, address, offset, size.
            return fields.count > 4 ? Int(fields[4], radix: 16) ?? -1 : -1
        }
        let modules = [
            "iogated", "IOGateServer", "IOGateMapping", "CIOGateVolatile", "IOGateCore", "IOGateProtocol", "IOGateMock", "IOGateGPIO",
            "IOGateSystem", "CIOGateSys", "CGPIOD",
        ]
        var objects = 0
        for module in modules {
            let dir = productsDirectory + "/" + module + ".build"
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".o") {
                objects += try tableSize(dir + "/" + file)
            }
        }
        #expect(objects > 0)
        #expect(try tableSize(productsDirectory + "/iogated") == objects)
    }

    /// The exception table of the built daemon, disassembled entry by entry: each listed
    /// instruction is one load or store through a register, the only device access the handler
    /// may resume from.
    @Test func everyTableEntryIsOneLoadOrStore() throws {
        let daemon = productsDirectory + "/iogated"
        let dump = try run("/usr/bin/objdump", ["-s", "-j", "iogate_extable", daemon])
        #expect(dump.status == 0, "\(dump.stderr)")
        var words: [(UInt64, Int32)] = []  // (address, value) of each 32-bit word
        for line in dump.stdout.split(separator: "\n") where line.hasPrefix(" ") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let start = UInt64(fields[0], radix: 16) else { continue }
            for (i, word) in fields.dropFirst().prefix(4).enumerated() where word.count == 8 {
                guard let le = UInt32(word, radix: 16) else { continue }
                words.append((start + UInt64(i) * 4, Int32(bitPattern: le.byteSwapped)))
            }
        }
        let accesses = stride(from: 0, to: words.count - 1, by: 2).map { UInt64(Int64(words[$0].0) + Int64(words[$0].1)) }
        #expect(accesses.count >= 16, "the daemon's guarded accesses: \(accesses.count)")
        #if arch(x86_64)
            let single = #/^(mov|movzbl|movzwl|movb|movw|movl|movq)\s+(\(%r[a-z0-9]+\),%[a-z0-9]+|%[a-z0-9]+,\(%r[a-z0-9]+\))$/#
        #else
            let single = #/^(ldr|ldrb|ldrh|str|strb|strh)\s+[wx][0-9]+, \[x[0-9]+\]$/#
        #endif
        for a in Set(accesses).sorted() {
            let r = try run(
                "/usr/bin/objdump",
                [
                    "-d", "--no-show-raw-insn", "--start-address=0x" + String(a, radix: 16),
                    "--stop-address=0x" + String(a + 16, radix: 16), daemon,
                ])
            // The first instruction at the entry's address.
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("  ") && $0.contains(":\t") } ?? ""
            let instruction = (line.split(separator: ":", maxSplits: 1).last.map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
            #expect(instruction.wholeMatch(of: single) != nil, "entry at 0x\(String(a, radix: 16)): '\(instruction)'")
        }
    }
}
