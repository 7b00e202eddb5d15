/// Plays a trace back access by access: a load returns the value the trace recorded, a store is
/// checked against the recorded store. The first access that differs from the next record (its
/// operation, place, width, or a stored value), or that comes after the last record, is the
/// divergence: it and every later access fail with it. Not thread-safe: the replay backend
/// holds a lock around it.
public struct TraceReplayer: Sendable {
    public let trace: Trace
    /// The trace file's name, for messages.
    public let file: String
    let board: Board?
    /// The next record to match.
    public private(set) var next = 0
    /// The first divergence, once there is one.
    public private(set) var divergence: IOGateError?

    public init(trace: Trace, file: String, board: Board?) {
        self.trace = trace
        self.file = file
        self.board = board
    }

    /// The records not matched yet.
    public var remaining: ArraySlice<TraceRecord> { trace.records[min(next, trace.records.count)...] }

    /// A load: the recorded value, or the divergence.
    public mutating func load(_ address: UInt64, _ width: AccessWidth) -> Result<UInt64, IOGateError> {
        if let error = match(write: false, address, width, value: nil) { return .failure(error) }
        return .success(trace.records[next - 1].value)
    }

    /// A store: nil when it is the recorded store, else the divergence.
    public mutating func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) -> IOGateError? {
        match(write: true, address, width, value: value)
    }

    /// What is left at the end: nil when the replay matched every record; else the divergence or
    /// the records never reached.
    public func verdict() -> IOGateError? {
        if let divergence { return divergence }
        let left = remaining
        guard let first = left.first else { return nil }
        return IOGateError(
            .badState,
            "replay incomplete: \(left.count) of \(trace.records.count) recorded accesses were never made, from \(file):\(first.line) (\(first)) on"
        )
    }

    /// A one-line account of the replay so far.
    public var summary: String {
        if let divergence { return divergence.message }
        return "\(next) of \(trace.records.count) recorded accesses matched"
    }

    private mutating func match(write: Bool, _ address: UInt64, _ width: AccessWidth, value: UInt64?) -> IOGateError? {
        if let divergence { return divergence }
        let got = describe(write: write, address, width, value)
        guard next < trace.records.count else {
            let last = trace.records.last.map { "line \($0.line), \($0)" } ?? "it has no records"
            return diverge(
                "replay diverged after the end of \(file) (\(last)): got \(got); the program made more accesses than were recorded")
        }
        let r = trace.records[next]
        var differences: [String] = []
        if r.write != write { differences.append(write ? "a store where the trace has a load" : "a load where the trace has a store") }
        if r.address != address { differences.append("a different place") }
        if r.width != width { differences.append("a different width") }
        if r.write && write && r.address == address && r.width == width && r.value != value { differences.append("a different value") }
        guard differences.isEmpty else {
            return diverge("replay diverged at \(file):\(r.line): expected \(r), got \(got) (\(differences.joined(separator: ", ")))")
        }
        next += 1
        return nil
    }

    private mutating func diverge(_ message: String) -> IOGateError {
        let error = IOGateError(.badState, message)
        divergence = error
        return error
    }

    /// `W gpio+0x1C 32 0x00020000` for a store, `R gpio+0x34 32` for a load.
    func describe(write: Bool, _ address: UInt64, _ width: AccessWidth, _ value: UInt64?) -> String {
        let place =
            board?.windows.first { $0.range.contains(address, size: 1) }.map { "\($0.name)+\(hex(address - $0.range.base))" }
            ?? hex(address)
        return "\(write ? "W" : "R") \(place) \(width.bits)" + (value.map { " \(hex($0, digits: width.hexDigits))" } ?? "")
    }
}
