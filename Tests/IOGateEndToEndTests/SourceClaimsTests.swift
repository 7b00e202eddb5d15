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

    /// A line that uses an unsafe construct: raw pointers, rebinding, `pointee`, `unsafeBitCast`,
    /// `Unmanaged`, and the concurrency escape hatches.
    static let unsafeConstruct =
        #"Unsafe[A-Za-z]*Pointer|withUnsafe|Unmanaged|\.pointee|unsafeBitCast|assumingMemoryBound|bindMemory|withMemoryRebound|nonisolated\(unsafe\)|@preconcurrency|unsafeAddress"#

    /// Every unsafe site carries a `SAFETY:` comment on its line, one of the four lines above it or
    /// the first lines of the closure it opens (one comment may cover a short run of lines), and outside the mapping module and the system
    /// seam there are none but the protocol codec's buffer views and the sessions' receive buffers,
    /// each justified the same way. The counts per module are printed for the record.
    @Test func everyUnsafeSiteIsJustified() throws {
        var unjustified: [String] = []
        var perModule: [String: Int] = [:]
        for (path, text) in try Self.sources() {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (i, line) in lines.enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard !code.hasPrefix("//"), !code.hasPrefix("///"), code.contains(try Regex(Self.unsafeConstruct)) else { continue }
                perModule[path.split(separator: "/")[1].description, default: 0] += 1
                let context = lines[max(0, i - 4)...min(lines.count - 1, i + 2)]
                if !context.contains(where: { $0.contains("SAFETY:") }) { unjustified.append("\(path):\(i + 1): \(code)") }
            }
        }
        print("unsafe sites per module: \(perModule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        #expect(unjustified.isEmpty, "unsafe sites without a SAFETY: comment:\n\(unjustified.joined(separator: "\n"))")
        let allowed: Set = ["IOGateMapping", "IOGateSystem", "IOGateProtocol", "IOGateServer", "IOGate", "iogate"]
        #expect(Set(perModule.keys).isSubset(of: allowed), "unsafe code in \(Set(perModule.keys).subtracting(allowed))")
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
