import IOGateCore
import Testing

@testable import IOGateProtocol

/// Typed error details on the wire (protocol version 3, PROTOCOL.md section 7.1).
@Suite struct ErrorDetailsTests {
    static let full = IOGateError.Details(
        address: 0xFE20_1000, size: 4,
        granted: [
            GrantedRange(range: try! PhysicalRange(base: 0xFE20_0000, length: 0xF4), window: nil, access: .rw),
            GrantedRange(range: try! PhysicalRange(base: 0xFE10_0000, length: 0x1000), window: nil, access: .ro),
        ], pin: 17, consumer: "led0", errno: 13, call: "open /dev/mem", operation: 2)

    /// Encodes `error` as a response and decodes it as a client would.
    func roundTrip(_ error: IOGateError, details: Bool) -> (IOGateError, [UInt8]) {
        var w = ByteWriter()
        Codec.encodeError(error, opcode: 0x10, id: 9, details: details, into: &w)
        let body = Array(w.bytes[(Frame.prefixSize + Frame.headerSize)...])
        return (body.withUnsafeBytes { Codec.decodeError(status: error.code.rawValue, body: $0) }, body)
    }

    @Test func everyDetailSurvivesTheWire() {
        let e = IOGateError(.outsideAllowlist, "refused", details: Self.full)
        let (decoded, body) = roundTrip(e, details: true)
        #expect(decoded == e)
        #expect(decoded.message == "refused")
        // message, zero byte, then: address 10, size 10, two granted 19 each, pin 6, consumer 6,
        // errno 6, call 15, operation 6.
        #expect(body.count == 7 + 1 + 10 + 10 + 2 * 19 + 6 + 6 + 6 + 15 + 6)
        #expect(Array(body[7...18]) == [0, 1, 8, 0x00, 0x10, 0x20, 0xFE, 0, 0, 0, 0, 2])
    }

    @Test func versionsBeforeThreeGetTheMessageAlone() {
        let e = IOGateError(.outsideAllowlist, "refused", details: Self.full)
        let (decoded, body) = roundTrip(e, details: false)
        #expect(body == Array("refused".utf8))
        #expect(decoded.details.isEmpty)
        // No details to send: no zero byte either.
        #expect(roundTrip(IOGateError(.timeout, "late"), details: true).1 == Array("late".utf8))
    }

    @Test func unknownTagsAndWrongLengthsAreSkippedAndACutRecordEndsTheList() {
        let records: [UInt8] =
            [99, 3, 1, 2, 3]  // a tag from a later version
            + [1, 4, 0, 0, 0, 0]  // address with the wrong length
            + [4, 4, 5, 0, 0, 0]  // pin 5
            + [7, 10, 0x6F]  // call, cut short
        let d = ErrorDetailsCodec.decode(ArraySlice(records))
        #expect(d == IOGateError.Details(pin: 5))
    }

    @Test func aZeroByteInTheMessageCannotEndItEarly() {
        let (decoded, _) = roundTrip(IOGateError(.malformed, "bad \u{0} byte", details: .init(address: 1)), details: true)
        #expect(decoded.message == "bad   byte")
        #expect(decoded.details.address == 1)
    }

    @Test func batchErrorsNameTheOperationAndKeepTheirDetails() {
        let e = IOGateError(.misaligned, "address 0x2 is not aligned", details: .init(address: 2, size: 4))
        let b = e.inBatch(operation: 3, prefix: "batch operation #3: ")
        #expect(b.message == "batch operation #3: address 0x2 is not aligned")
        #expect(b.details == .init(address: 2, size: 4, operation: 3))
    }
}
