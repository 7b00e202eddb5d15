import IOGateCore
import Synchronization

/// GPIO chips and lines held in memory, for tests: claim and release lines as a kernel driver or
/// another program would, then watch what the daemon allows.
public final class FakeGPIOLineSource: GPIOLineInfoSource, Sendable {
    private let state: Mutex<[GPIOChipInfo]>
    private let queries = Atomic<Int>(0)

    /// Creates a source with `chips`.
    public init(chips: [GPIOChipInfo]) {
        state = Mutex(chips)
    }

    /// A chip of `count` unclaimed input lines.
    public static func chip(name: String, label: String, device: String? = nil, count: Int) -> GPIOChipInfo {
        GPIOChipInfo(name: name, label: label, device: device, lines: (0..<count).map { GPIOLineInfo(offset: $0) })
    }

    /// Marks a line claimed by `consumer` (nil: claimed without a name), as an output or input.
    public func claim(chip: String, offset: Int, consumer: String?, direction: GPIODirection = .output) {
        update(chip, offset) {
            $0.used = true
            $0.consumer = consumer
            $0.direction = direction
        }
    }

    /// Releases a line.
    public func release(chip: String, offset: Int) {
        update(chip, offset) {
            $0.used = false
            $0.consumer = nil
        }
    }

    /// How many times `lines(chip:offsets:)` was asked.
    public var lineQueries: Int { queries.load(ordering: .relaxed) }

    public func chips() throws(IOGateError) -> [GPIOChipInfo] { state.withLock { $0 } }

    public func lines(chip: String, offsets: [Int]) throws(IOGateError) -> [GPIOLineInfo] {
        queries.add(1, ordering: .relaxed)
        return try typedThrows {
            try state.withLock { chips in
                guard let c = chips.first(where: { $0.name == chip }) else {
                    throw IOGateError(.notFound, "no GPIO chip \(chip)")
                }
                var result: [GPIOLineInfo] = []
                for o in offsets {
                    guard c.lines.indices.contains(o) else { throw IOGateError(.notFound, "GPIO chip \(chip) has no line \(o)") }
                    result.append(c.lines[o])
                }
                return result
            }
        }
    }

    private func update(_ chip: String, _ offset: Int, _ body: (inout GPIOLineInfo) -> Void) {
        state.withLock { chips in
            guard let i = chips.firstIndex(where: { $0.name == chip }), chips[i].lines.indices.contains(offset) else { return }
            body(&chips[i].lines[offset])
        }
    }
}
