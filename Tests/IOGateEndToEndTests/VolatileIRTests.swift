import Foundation
import IOGateTestSupport
import Testing

/// The optimizer deletes or merges plain loads from memory it thinks nothing else changes; register
/// reads must survive -O. These check the real path: `MappedRegion.load`/`store` (inlined into a
/// probe compiled with the release optimizer) must leave one shim call per access, and each shim
/// access in the built daemon must be exactly one machine load or store of its width.
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
        let body = r.stdout.components(separatedBy: "define ").first { $0.prefix { $0 != "\n" }.contains("4poll") } ?? ""
        #expect(body.components(separatedBy: "call i32 @iogate_load32(").count - 1 == 2, "IR: \(body)")
        #expect(body.components(separatedBy: "call i32 @iogate_store32(").count - 1 == 2, "IR: \(body)")
    }

    /// The raw access functions in the built daemon, disassembled: the first instruction is the
    /// one device access (the bus-fault handler relies on it), of exactly the function's width.
    @Test func eachRawAccessIsOneInstructionOfItsWidth() throws {
        #if arch(x86_64)
            let expected = [
                "load8": "movzbl (%rdi),%eax", "load16": "movzwl (%rdi),%eax", "load32": "mov    (%rdi),%eax",
                "load64": "mov    (%rdi),%rax", "store8": "mov    %sil,(%rdi)", "store16": "mov    %si,(%rdi)",
                "store32": "mov    %esi,(%rdi)", "store64": "mov    %rsi,(%rdi)",
            ]
        #else
            let expected = [
                "load8": "ldrb\tw2, [x0]", "load16": "ldrh\tw2, [x0]", "load32": "ldr\tw2, [x0]", "load64": "ldr\tx2, [x0]",
                "store8": "strb\tw1, [x0]", "store16": "strh\tw1, [x0]", "store32": "str\tw1, [x0]", "store64": "str\tx1, [x0]",
            ]
        #endif
        for (name, instruction) in expected {
            let r = try run("/usr/bin/objdump", ["--disassemble=iogate_raw_\(name)", "--no-show-raw-insn", productsDirectory + "/iogated"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.components(separatedBy: "<iogate_raw_\(name)>:\n").dropFirst().first?.split(separator: "\n") ?? []
            // aarch64 starts with the BTI landing pad, a NOP on cores without it.
            let first = lines.map { $0.split(separator: ":", maxSplits: 1).last.map(String.init) ?? "" }
                .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.hasPrefix("bti") && !$0.hasPrefix("hint") }
            #expect(first == instruction, "iogate_raw_\(name) starts with \(first ?? "nothing")")
        }
    }
}
