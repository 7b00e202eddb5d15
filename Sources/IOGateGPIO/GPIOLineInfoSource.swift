import IOGateCore

/// Where GPIO chip and line information comes from: the kernel through libgpiod
/// (`LibgpiodLineSource`), or a fake in tests (`FakeGPIOLineSource`).
public protocol GPIOLineInfoSource: AnyObject, Sendable {
    /// Every GPIO chip the kernel exposes, with all its lines; empty when there is none.
    func chips() throws(IOGateError) -> [GPIOChipInfo]

    /// The current state of some lines of one chip, read again from the kernel, in `offsets` order.
    func lines(chip: String, offsets: [Int]) throws(IOGateError) -> [GPIOLineInfo]
}
