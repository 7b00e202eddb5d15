// libFuzzer target: the wire protocol decoder (server side and client side).
// Built by scripts/fuzz.sh; see Fuzz/README.md.
import IOGateCore
import IOGateProtocol

private let defaultLimits = Limits()

private let tinyLimits: Limits = {
    var l = Limits()
    l.maxFrame = 64
    l.maxBatch = 1
    l.maxBlock = 1
    l.maxWaitMilliseconds = 1
    return l
}()

/// Decodes a request payload. A request that decodes must encode to a frame of the same length
/// (padding, which the decoder ignores, comes back as zeros) that decodes to the same request.
private func checkRequest(_ payload: UnsafeRawBufferPointer, limits: Limits) {
    // The daemon decodes compact batches (0x21) in place; it must agree with decodeRequest.
    if payload.first == Opcode.compactBatch.rawValue {
        let inPlace = try? Codec.decodeCompactBatch(payload, limits: limits).1
        let decoded = try? Codec.decodeRequest(payload, limits: limits).1
        switch (inPlace, decoded) {
        case (nil, nil): break
        case (let v?, .compactBatch(let base, let ops)?):
            guard v.base == base, v.array == ops, v.resultBytes == Codec.compactResultSize(of: ops) else {
                fatalError("in-place compact batch differs from decodeRequest: \(ops)")
            }
        default: fatalError("in-place compact batch decoding disagrees with decodeRequest: \(String(describing: decoded))")
        }
    }
    guard let (header, request) = try? Codec.decodeRequest(payload, limits: limits) else { return }
    var w = ByteWriter()
    Codec.encode(request, id: header.id, into: &w)
    guard w.bytes.count == payload.count + Frame.prefixSize else {
        fatalError("\(request) encodes to \(w.bytes.count - Frame.prefixSize) payload bytes; decoded from \(payload.count)")
    }
    let again = w.bytes.withUnsafeBytes { p in
        try? Codec.decodeRequest(UnsafeRawBufferPointer(rebasing: p[Frame.prefixSize...]), limits: limits)
    }
    guard let again, again.0 == header, again.1 == request else { fatalError("\(request) does not survive a re-encode") }
}

/// What a client does with a response payload: header, then the body by opcode.
private func checkResponse(_ payload: UnsafeRawBufferPointer) {
    guard let header = try? Codec.header(payload) else { return }
    let body = UnsafeRawBufferPointer(rebasing: payload[min(Frame.headerSize, payload.count)...])
    if header.status != 0 {
        _ = Codec.decodeError(status: header.status, body: body).message.utf8.count
        return
    }
    var r = ByteReader(body)
    if let hello = try? Codec.decodeHello(&r) { _ = hello.maxFrame }
    r = ByteReader(body)
    if let windows = try? Codec.decodeWindows(&r) {
        var w = ByteWriter()
        Codec.encode(windows, into: &w)
        var again = ByteReader(UnsafeRawBufferPointer(start: nil, count: 0))
        w.bytes.withUnsafeBytes { p in
            again = ByteReader(p)
            guard let decoded = try? Codec.decodeWindows(&again), decoded.count == windows.count else {
                fatalError("windows list does not survive a re-encode: \(windows)")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // The input as one payload (header and body, no length prefix).
    checkRequest(input, limits: defaultLimits)
    checkRequest(input, limits: tinyLimits)
    checkResponse(input)
    // The input as a stream of frames, the way a session reads it: length prefix, check, payload.
    var offset = 0
    while input.count - offset >= Frame.prefixSize {
        let length = input.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        offset += Frame.prefixSize
        let okDefault = (try? Codec.checkLength(length, limit: defaultLimits.maxFrame)) != nil
        let okTiny = (try? Codec.checkLength(length, limit: tinyLimits.maxFrame)) != nil
        if okTiny && !okDefault { fatalError("length \(length) passes the tiny limit but not the default") }
        guard okDefault, Int(length) <= input.count - offset else { break }
        let payload = UnsafeRawBufferPointer(rebasing: input[offset..<offset + Int(length)])
        checkRequest(payload, limits: defaultLimits)
        if okTiny { checkRequest(payload, limits: tinyLimits) }
        checkResponse(payload)
        offset += Int(length)
    }
    return 0
}
