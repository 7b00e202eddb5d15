import Foundation
import IOGateTestSupport
import Testing

/// What README.md and Package.swift say about where code lives, checked against the sources.
@Suite struct SourceClaimsTests {
    /// Every Swift source file under Sources/, as (path relative to the repository, text).
    static func sources() throws -> [(path: String, text: String)] {
        let root = repositoryRoot + "/Sources"
        let paths = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try paths.sorted().map { ("Sources/" + $0, try String(contentsOfFile: root + "/" + $0, encoding: .utf8)) }
    }

    @Test func onlyIOGateMappingTouchesDeviceMemory() throws {
        let files = try Self.sources()
        #expect(files.count > 50)
        let importers = files.filter { $0.text.contains("import CIOGateVolatile") }.map(\.path)
        #expect(importers == ["Sources/IOGateMapping/DeviceMapping.swift"])
        // Shared file mappings (the device) are made in one place only.
        let mappers = files.filter { $0.text.contains("MAP_SHARED") }.map(\.path)
        #expect(mappers == ["Sources/IOGateMapping/DeviceMapping.swift"])
    }

    @Test func theCLIDoesNotLinkTheServer() throws {
        let files = try Self.sources().filter { $0.path.hasPrefix("Sources/iogate/") }
        #expect(!files.isEmpty)
        for f in files {
            for module in ["IOGateServer", "IOGateMapping", "IOGateMock"] {
                #expect(!f.text.contains("import \(module)\n"), "\(f.path) imports \(module)")
            }
        }
        // And the built binary has none of the server's symbols.
        let r = try run("/usr/bin/nm", [productsDirectory + "/iogate"])
        #expect(r.status == 0)
        #expect(!r.stdout.contains("IOGateServer"), "iogate links IOGateServer")
        #expect(!r.stdout.contains("seccomp_init"), "iogate links libseccomp")
    }
}
