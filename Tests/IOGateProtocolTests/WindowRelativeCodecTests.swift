import IOGateCore
import IOGateProtocol
import Testing

/// Version 3 window-relative requests (`Frame.windowRelativeFlag`, docs/PROTOCOL.md section 5.10):
/// encoded and decoded, and refused exactly as before on connections that did not choose version 3.
struct WindowRelativeCodecTests {
    func encode(_ r: Request, window: String?, id: UInt32 = 7) -> [UInt8] {
        var w = ByteWriter()
        Codec.encode(r, id: id, window: window, into: &w)
        return w.bytes
    }

    func decode(_ frame: [UInt8], windowRelative: Bool) throws(IOGateError) -> (FrameHeader, Request, String?) {
        var ops: [BatchOp] = []
        var window: String?
        let payload = Array(frame.dropFirst(Frame.prefixSize))
        let (h, r) = try typedThrows {
            try payload.withUnsafeBytes { p in
                try Codec.decodeRequest(p, limits: Limits(), batchOps: &ops, window: &window, windowRelative: windowRelative)
            }
        }
        return (h, r, window)
    }

    @Test func theFlagThenTheNameThenTheUsualBody() throws {
        let read = encode(.read(address: 0x34, width: .word, count: 1), window: "gpio")
        #expect(
            read == [0x1D, 0, 0, 0, 0x10, 0x02, 0, 0, 7, 0, 0, 0, 4, 0x67, 0x70, 0x69, 0x6F]
                + [0x34, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0])
        // Without a window, the same bytes as ever.
        #expect(
            encode(.read(address: 0x34, width: .word, count: 1), window: nil) == [0x18, 0, 0, 0, 0x10, 0, 0, 0, 7, 0, 0, 0]
                + Array(read[17...]))
    }

    @Test(arguments: [
        Request.read(address: 0x34, width: .word, count: 3),
        .write(address: 0x1C, width: .half, values: [0xBEEF, 1]),
        .modify(address: 4, width: .byte, mask: 0xF0, value: 0x30),
        .wait(address: 0x34, width: .double, mask: 1, value: 1, timeoutMilliseconds: 50),
    ])
    func roundTripsEveryAllowedOpcode(_ request: Request) throws {
        let (h, r, window) = try decode(encode(request, window: "gpio-ä"), windowRelative: true)
        #expect(h.flags == Frame.windowRelativeFlag && window == "gpio-ä" && r == request)
        // A plain request on a version 3 connection has no window.
        let plain = try decode(encode(request, window: nil), windowRelative: true)
        #expect(plain.2 == nil && plain.1 == request)
    }

    @Test func versionOneAndTwoRefuseTheFlagWithTheOldMessage() {
        let frame = encode(.read(address: 0x34, width: .word, count: 1), window: "gpio")
        #expect(throws: IOGateError(.malformed, "request flags and status must be 0; got flags 2, status 0")) {
            _ = try decode(frame, windowRelative: false)
        }
    }

    @Test func otherOpcodesEmptyNamesAndBadUTF8AreMalformed() {
        var batch = encode(.batch([.read(0x10)]), window: nil)
        batch[5] = Frame.windowRelativeFlag
        var windows = encode(.windows, window: nil)
        windows[5] = Frame.windowRelativeFlag
        var empty = encode(.read(address: 0, width: .word, count: 1), window: nil)
        empty.insert(0, at: 12)
        empty[0] += 1
        empty[5] = Frame.windowRelativeFlag
        var bad = encode(.read(address: 0, width: .word, count: 1), window: "ab")
        bad[14] = 0xFF
        var other = encode(.read(address: 0, width: .word, count: 1), window: nil)
        other[5] = 0x04
        for (frame, fragment) in [
            (batch, "is for read, write, modify and wait requests"), (windows, "is for read, write, modify and wait requests"),
            (empty, "needs a window name"), (bad, "not UTF-8"), (other, "request flags and status must be 0; got flags 4"),
        ] {
            do {
                _ = try decode(frame, windowRelative: true)
                Issue.record("decoded \(frame)")
            } catch {
                #expect(error.code == .malformed && error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}
