/// The trace file format, version 1 (docs/TRACE.md): what `trace = "PATH"` writes and what the
/// replay backend (`device = "replay:PATH"`, `iogate replay`) reads.
///
/// ```
/// # iogate-trace 1 board=rpi4
/// R gpio+0x4 32 0x00000000 uid=1000 pid=4242
/// W gpio+0x4 32 0x00200000 uid=1000 pid=4242
/// ```
///
/// The first line names the format and its version (and the board, when the daemon has one).
/// Then one record per register access, in the order the accesses reached the registers:
/// the operation (`R` a load, `W` a store), where (`WINDOW+0xOFFSET` in a board window, else
/// `0xBASE+0xOFFSET` of the granted range), the width in bits, the value (for `R` the value the
/// register returned, the access's result; for `W` the value stored), then `key=value` fields
/// (`uid`, `pid` of the client) that replay ignores. Lines starting with `#` after the first are
/// comments.
public enum TraceFormat {
    /// The version this build writes and reads.
    public static let version = 1
    /// The first word of the header line.
    public static let magic = "# iogate-trace"

    /// The header line (without its newline).
    public static func header(board: String?) -> String {
        "\(magic) \(version)" + (board.map { " board=\($0)" } ?? "")
    }

    /// One record line (without its newline).
    public static func line(write: Bool, label: String, width: AccessWidth, value: UInt64, uid: UInt32, pid: Int32) -> String {
        "\(write ? "W" : "R") \(label) \(width.bits) \(hex(value, digits: width.hexDigits)) uid=\(uid) pid=\(pid)"
    }
}

/// One access of a trace.
public struct TraceRecord: Hashable, Sendable, CustomStringConvertible {
    /// The line of the trace file (from 1).
    public var line: Int
    /// A store (`W`) or a load (`R`).
    public var write: Bool
    /// Where, as the trace wrote it (`gpio+0x1C`).
    public var label: String
    /// The physical address.
    public var address: UInt64
    public var width: AccessWidth
    /// The value loaded (`R`) or stored (`W`).
    public var value: UInt64

    public init(line: Int, write: Bool, label: String, address: UInt64, width: AccessWidth, value: UInt64) {
        self.line = line
        self.write = write
        self.label = label
        self.address = address
        self.width = width
        self.value = value
    }

    /// `W gpio+0x1C 32 0x00020000`: the record without its client fields.
    public var description: String {
        "\(write ? "W" : "R") \(label) \(width.bits) \(hex(value, digits: width.hexDigits))"
    }
}

/// A parsed trace file.
public struct Trace: Hashable, Sendable {
    /// The format version of its header.
    public var version: Int
    /// The board its header names, if any.
    public var board: String?
    /// The accesses, in order.
    public var records: [TraceRecord]

    /// Parses a trace. `board` resolves `WINDOW+0xOFFSET` places (a trace recorded on another
    /// board is refused); errors name `file`, the line and what is wrong.
    public static func parse(text: String, file: String, board: Board?) throws(IOGateError) -> Trace {
        guard !text.isEmpty else {
            throw IOGateError(.config, "\(file): empty file; an iogate trace starts with '\(TraceFormat.magic) \(TraceFormat.version)'")
        }
        var version: Int?
        var traceBoard: String?
        var records: [TraceRecord] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ message: String) -> IOGateError { IOGateError(.config, "\(file):\(n): \(message)") }
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if version == nil {
                guard line.hasPrefix(TraceFormat.magic + " ") else {
                    let found = line.isEmpty ? "an empty line" : "'\(line.prefix(60))'"
                    throw fail(
                        "not an iogate trace: the first line must be '\(TraceFormat.magic) <version>' (docs/TRACE.md); found \(found). "
                            + "A trace written by an iogated older than format version 1, or appended to a file that was not empty, has no such line"
                    )
                }
                let words = line.dropFirst(TraceFormat.magic.count).split(separator: " ")
                guard let v = words.first.flatMap({ Int($0) }) else {
                    throw fail("the header '\(line)' has no format version after '\(TraceFormat.magic)'")
                }
                guard v == TraceFormat.version else {
                    throw fail(
                        "trace format version \(v) is not supported; this build reads version \(TraceFormat.version) (docs/TRACE.md)")
                }
                for w in words.dropFirst() {
                    guard w.hasPrefix("board="), w.count > 6 else { throw fail("unknown header field '\(w)'; expected board=ID") }
                    traceBoard = String(w.dropFirst(6))
                }
                if let b = traceBoard, let board, b != board.id {
                    throw fail("the trace was recorded on board \(b), but the replay runs board \(board.id); set board = \"\(b)\"")
                }
                version = v
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            records.append(try record(line, number: n, board: board, fail: fail))
        }
        // A non-empty text has a first line, which set the version or threw.
        return Trace(version: version ?? TraceFormat.version, board: traceBoard, records: records)
    }

    static func record(_ line: Substring, number: Int, board: Board?, fail: (String) -> IOGateError) throws(IOGateError) -> TraceRecord {
        let fields = line.split(separator: " ")
        guard fields.count >= 4 else {
            throw fail("'\(line)' has \(fields.count) fields; a record is 'R|W PLACE WIDTH VALUE [key=value...]'")
        }
        let write: Bool
        switch fields[0] {
        case "R": write = false
        case "W": write = true
        default: throw fail("unknown operation '\(fields[0])'; a record starts with R (load) or W (store)")
        }
        let label = String(fields[1])
        let parts = label.split(separator: "+", maxSplits: 1)
        guard parts.count == 2, parts[1].hasPrefix("0x"), let offset = parseInteger(parts[1]) else {
            throw fail("place '\(label)' is not WINDOW+0xOFFSET or 0xBASE+0xOFFSET")
        }
        let base: UInt64
        if parts[0].hasPrefix("0x") {
            guard let b = parseInteger(parts[0]) else { throw fail("place '\(label)': '\(parts[0])' is not a hex address") }
            base = b
        } else {
            guard let board else { throw fail("place '\(label)' names a window, but the replay has no board; set board = \"ID\"") }
            guard let w = board.window(named: String(parts[0])) else {
                throw fail(
                    "place '\(label)': board \(board.id) has no window '\(parts[0])'; its windows: \(board.windows.map(\.name).joined(separator: ", "))"
                )
            }
            base = w.range.base
        }
        guard let bits = Int(fields[2]), let width = AccessWidth(bits: bits), [8, 16, 32, 64].contains(bits) else {
            throw fail("width '\(fields[2])' is not 8, 16, 32 or 64")
        }
        guard fields[3].hasPrefix("0x"), let value = parseInteger(fields[3]) else {
            throw fail("value '\(fields[3])' is not a hex number (0x...)")
        }
        guard value <= width.maxValue else { throw fail("value \(fields[3]) does not fit in \(bits) bits") }
        for extra in fields.dropFirst(4) where !extra.contains("=") {
            throw fail("'\(extra)' after the value is not a key=value field")
        }
        let (address, overflow) = base.addingReportingOverflow(offset)
        guard !overflow else { throw fail("place '\(label)' is past the end of the address space") }
        return TraceRecord(line: number, write: write, label: label, address: address, width: width, value: value)
    }
}
