/// Which way a GPIO line points, as the kernel reports it.
public enum GPIODirection: String, Hashable, Sendable, Codable {
    case input, output
}

/// What the kernel says about one GPIO line (libgpiod's vocabulary: offset, name, consumer).
public struct GPIOLineInfo: Hashable, Sendable, Codable {
    /// The line's number on its chip.
    public var offset: Int
    /// The line's name from the device tree (`gpio-line-names`), if any.
    public var name: String?
    /// Who holds the line: a kernel driver's or a program's label, if it gave one.
    public var consumer: String?
    /// Input or output.
    public var direction: GPIODirection
    /// True when the line is active-low.
    public var activeLow: Bool
    /// True when a kernel driver, a pin controller or another program has claimed the line.
    /// A claimed line may have no consumer name (pins muxed away by a strict pin controller).
    public var used: Bool

    /// Creates a line description.
    public init(
        offset: Int, name: String? = nil, consumer: String? = nil, direction: GPIODirection = .input,
        activeLow: Bool = false, used: Bool = false
    ) {
        self.offset = offset
        self.name = name
        self.consumer = consumer
        self.direction = direction
        self.activeLow = activeLow
        self.used = used
    }

    /// `"led0"` or, for a claim without a name, `the kernel (no consumer name)`.
    public var holder: String {
        consumer.map { "\"\($0)\"" } ?? "the kernel (no consumer name)"
    }
}
