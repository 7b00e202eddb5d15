import IOGateCore

/// Operation codes. A response carries its request's opcode with `Frame.responseFlag` set.
public enum Opcode: UInt8, Sendable, CaseIterable {
    case hello = 0x01
    case windows = 0x02
    /// Protocol version 3: the windows list with each entry's per-pin or per-bit grant.
    case grants = 0x03
    case read = 0x10
    case write = 0x11
    case modify = 0x12
    case wait = 0x13
    case batch = 0x20
    /// Protocol version 2: a batch as a base address and variable-length operations with 32-bit
    /// offsets (8 bytes per read instead of 32), answered with `width`-byte results.
    case compactBatch = 0x21

    /// The lowest protocol version in which this opcode exists.
    public var sinceVersion: UInt16 {
        switch self {
        case .compactBatch: 2
        case .grants: 3
        default: 1
        }
    }
}

/// Kinds of operation inside a batch.
public enum BatchKind: UInt8, Sendable {
    case read = 1
    case write = 2
    case modify = 3
}

/// Framing constants of protocol version 1. See docs/PROTOCOL.md.
public enum Frame {
    /// The highest protocol version this build speaks. Version 2 is version 1 plus the compact
    /// batch (`0x21`); version 3 adds the grants list (`0x03`), typed details in error responses
    /// (`errorDetailsSince`) and window-relative requests (`windowRelativeFlag`); a hello gets the
    /// highest version both sides speak.
    public static let version: UInt16 = 3
    /// The first version whose error responses carry typed details after the message.
    public static let errorDetailsSince: UInt16 = 3
    /// The lowest protocol version in which requests may set `windowRelativeFlag`.
    public static let windowRelativeSince: UInt16 = 3
    /// Request flag (version 3): the body starts with a window name (`u8` length, then that many
    /// bytes of UTF-8) and the request's `address` field is an offset from that granted window's
    /// base. Read, write, modify and wait only; docs/PROTOCOL.md section 5.10.
    public static let windowRelativeFlag: UInt8 = 0x02
    /// The lowest protocol version this build speaks.
    public static let minVersion: UInt16 = 1
    /// `"IOGT"` read as a little-endian UInt32, at the start of every hello.
    public static let magic: UInt32 = 0x5447_4F49
    /// Bytes before the payload: the 4-byte length prefix.
    public static let prefixSize = 4
    /// Bytes of the header inside the payload: opcode, flags, status, id.
    public static let headerSize = 8
    /// Flag bit set on responses.
    public static let responseFlag: UInt8 = 0x01
    /// Size of one operation inside a batch request.
    public static let batchOpSize = 32
    /// Bytes of a compact batch request body before its operations: count, reserved, base.
    public static let compactBatchHeaderSize = 16
    /// The largest frame any peer must accept before the hello says otherwise.
    public static let handshakeLimit = 4096
}

/// The header of every frame, after the length prefix.
public struct FrameHeader: Hashable, Sendable {
    public var opcode: UInt8
    public var flags: UInt8
    /// 0 for requests and successful responses; an `IOGateError.Code` otherwise.
    public var status: UInt16
    /// Chosen by the client; echoed by the response.
    public var id: UInt32

    public init(opcode: UInt8, flags: UInt8 = 0, status: UInt16 = 0, id: UInt32) {
        self.opcode = opcode
        self.flags = flags
        self.status = status
        self.id = id
    }
}

/// A request, decoded and checked for shape (not yet for policy).
public enum Request: Hashable, Sendable {
    case hello(minVersion: UInt16, maxVersion: UInt16)
    case windows
    /// Version 3: the windows list with per-pin and per-bit grants.
    case grants
    case read(address: UInt64, width: AccessWidth, count: UInt32)
    /// Block write: `values.count` consecutive elements.
    case write(address: UInt64, width: AccessWidth, values: [UInt64])
    case modify(address: UInt64, width: AccessWidth, mask: UInt64, value: UInt64)
    case wait(address: UInt64, width: AccessWidth, mask: UInt64, value: UInt64, timeoutMilliseconds: UInt32)
    case batch([BatchOp])
    /// A compact batch (version 2): every operation's address is `base` plus a 32-bit offset.
    /// The encoder writes `address - base` truncated to 32 bits: the caller keeps every
    /// operation within `base ..< base + 2^32`.
    case compactBatch(base: UInt64, ops: [BatchOp])

    /// The opcode that carries this request.
    public var opcode: Opcode {
        switch self {
        case .hello: .hello
        case .windows: .windows
        case .grants: .grants
        case .read: .read
        case .write: .write
        case .modify: .modify
        case .wait: .wait
        case .batch: .batch
        case .compactBatch: .compactBatch
        }
    }
}

/// What the daemon checks and runs of a batch operation, whichever encoding it arrived in: a
/// decoded `BatchOp` (opcode 0x20) or a `CompactOp` read in place (opcode 0x21).
public protocol BatchOperation {
    var kind: BatchKind { get }
    var width: AccessWidth { get }
    var address: UInt64 { get }
    /// A modify's mask.
    var mask: UInt64 { get }
    /// A write's value, a modify's new bits.
    var value: UInt64 { get }
}

/// One operation of a batch.
public struct BatchOp: BatchOperation, Hashable, Sendable {
    public var kind: BatchKind
    public var width: AccessWidth
    public var address: UInt64
    public var mask: UInt64
    public var value: UInt64

    public init(kind: BatchKind, width: AccessWidth, address: UInt64, mask: UInt64 = 0, value: UInt64 = 0) {
        self.kind = kind
        self.width = width
        self.address = address
        self.mask = mask
        self.value = value
    }

    /// A read of one register.
    public static func read(_ address: UInt64, width: AccessWidth = .word) -> BatchOp {
        BatchOp(kind: .read, width: width, address: address)
    }
    /// A write of one register.
    public static func write(_ address: UInt64, _ value: UInt64, width: AccessWidth = .word) -> BatchOp {
        BatchOp(kind: .write, width: width, address: address, value: value)
    }
    /// A read-modify-write: `new = (old & ~mask) | (value & mask)`; its result is the old value.
    public static func modify(_ address: UInt64, mask: UInt64, value: UInt64, width: AccessWidth = .word) -> BatchOp {
        BatchOp(kind: .modify, width: width, address: address, mask: mask, value: value)
    }
}

extension BatchKind {
    /// Bytes of one operation of this kind in a compact batch: the 8-byte head (kind, width,
    /// padding, offset), then the value (write) or the mask and the value (modify).
    @inlinable public var compactSize: Int { Int(rawValue) &* 8 }
}

/// One entry of the windows list: a range the client may use.
public struct WindowInfo: Hashable, Sendable {
    public var name: String
    public var base: UInt64
    public var length: UInt64
    public var access: Access
    /// The GPIO register model of the board window (`bcm2711`, `omap`, ...), or empty.
    public var model: String
    /// The number of GPIO lines with `model`, else 0.
    public var pins: UInt16

    public init(name: String, base: UInt64, length: UInt64, access: Access, model: String = "", pins: UInt16 = 0) {
        self.name = name
        self.base = base
        self.length = length
        self.access = access
        self.model = model
        self.pins = pins
    }
}

/// One entry of a grants response (version 3): a windows entry and what of it is granted.
public struct GrantInfo: Hashable, Sendable {
    public var window: WindowInfo
    /// The pins granted (board numbering) when the entry is a pin grant; empty otherwise.
    public var pins: [UInt16]
    /// The mask of every 32-bit register when the entry is a `bits` grant.
    public var bits: UInt32?

    public init(window: WindowInfo, pins: [UInt16] = [], bits: UInt32? = nil) {
        self.window = window
        self.pins = pins
        self.bits = bits
    }

    /// Whether the whole range is granted (no pin or bit restriction).
    public var isWhole: Bool { pins.isEmpty && bits == nil }
}

/// What the daemon says in reply to a hello.
public struct ServerHello: Hashable, Sendable {
    public var version: UInt16
    public var maxFrame: UInt32
    public var maxBatch: UInt32
    public var maxBlock: UInt32

    public init(version: UInt16, maxFrame: UInt32, maxBatch: UInt32, maxBlock: UInt32) {
        self.version = version
        self.maxFrame = maxFrame
        self.maxBatch = maxBatch
        self.maxBlock = maxBlock
    }
}
