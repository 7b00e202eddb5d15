import Foundation
import Testing

/// The optimizer deletes or merges plain loads from memory it thinks nothing else changes; register
/// reads must survive -O. This compiles Swift that reads a register twice and writes it twice through
/// the shim (as IOGateMapping does) with the release optimizer, and checks the emitted LLVM IR.
@Suite struct VolatileIRTests {
    @Test func optimizedSwiftKeepsEveryRegisterAccess() throws {
        let dir = TempDir()
        let source = dir.file("probe.swift")
        try """
        import CIOGateVolatile

        @inline(never)
        public func poll(_ p: UnsafeMutableRawPointer) -> UInt32 {
            let a = iogate_load32(p)
            let b = iogate_load32(p)   // a plain load would be merged with the first
            iogate_store32(p, 1)
            iogate_store32(p, 1)       // a plain store would be merged with this one
            return a &+ b
        }
        """.write(toFile: source, atomically: false, encoding: .utf8)
        let swiftc = ProcessInfo.processInfo.environment["SWIFTC"] ?? "/opt/swift/usr/bin/swiftc"
        let include = repositoryRoot + "/Sources/CIOGateVolatile/include"
        // A module map so Swift can import the header on its own.
        try "module CIOGateVolatile { header \"iogate_volatile.h\"\n export * }\n".write(
            toFile: dir.file("module.modulemap"), atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(atPath: include + "/iogate_volatile.h", toPath: dir.file("iogate_volatile.h"))
        let r = try run(swiftc, ["-O", "-emit-ir", "-parse-as-library", "-I", dir.path, "-module-name", "Probe", source])
        #expect(r.status == 0, "\(r.stderr)")
        let body = r.stdout.components(separatedBy: "define ").first { $0.prefix { $0 != "\n" }.contains("4poll") } ?? ""
        #expect(body.components(separatedBy: "load volatile i32").count - 1 == 2, "IR: \(body)")
        #expect(body.components(separatedBy: "store volatile i32").count - 1 == 2, "IR: \(body)")
    }
}
