import IOGateProtocol
import IOGateTestSupport
import Testing

/// `--version` names the protocol version the programs speak, so it cannot drift from the codec.
@Suite struct VersionTests {
    @Test(arguments: ["iogate", "iogated"])
    func versionBannerNamesTheProtocolTheCodecSpeaks(_ program: String) throws {
        let r = try run(productsDirectory + "/" + program, ["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.hasSuffix("(protocol \(Frame.version))\n"), "\(r.stdout)")
        #expect(r.stdout.hasPrefix(program + " "), "\(r.stdout)")
    }
}
