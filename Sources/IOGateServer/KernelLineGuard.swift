import IOGateCore
import IOGateGPIO

/// Refuses writes and modifies that would change the function, output or pull of a GPIO line that
/// a kernel driver or another program has claimed (`protect_kernel_lines`, on by default).
///
/// Built once at start for the GPIO blocks the daemon serves whose register model maps bits to
/// pins (`GPIOLayout`: bcm2835, bcm2711, rp1, omap) and whose kernel GPIO chip can be found
/// (`GPIOChipMatcher`). Each guarded store asks the kernel, through `GPIOLineInfoSource`, about
/// exactly the pins it would change; reads are never checked.
public final class KernelLineGuard: WriteGuard, Sendable {
    /// A protected GPIO block: a board window, its register model, and its chip.
    public struct Block: Sendable {
        public let window: BoardWindow
        public let layout: GPIOLayout
        public let chip: GPIOChipInfo
        public let reason: GPIOChipMatcher.Reason
        /// Where its registers are: the window, and on rp1 the RIO and pad registers after it.
        public var addresses: ClosedRange<UInt64> { layout.addresses(at: window) }
    }

    /// The blocks this guard protects.
    public let blocks: [Block]
    let source: GPIOLineInfoSource

    init(blocks: [Block], source: GPIOLineInfoSource) {
        self.blocks = blocks
        self.source = source
    }

    /// The guard for the GPIO blocks of `board` inside `served`, or nil when it has nothing to
    /// protect; either way says once in the log what it protects or why nothing.
    public static func make(board: Board?, served: [PhysicalRange], source: GPIOLineInfoSource, logger: Logger) -> KernelLineGuard? {
        let candidates = (board?.gpioWindows ?? []).filter { w in served.contains { $0.contains(w.range.base, size: w.range.length) } }
        guard !candidates.isEmpty else {
            logger.notice("protect_kernel_lines: no GPIO block of the board is served; nothing to protect")
            return nil
        }
        let chips: [GPIOChipInfo]
        do { chips = try source.chips() } catch {
            logger.warning("protect_kernel_lines: cannot list GPIO chips (\(error.message)); kernel-owned pins are not protected")
            return nil
        }
        var blocks: [Block] = []
        var unmatched: [String] = []
        for w in candidates {
            guard let layout = GPIOLayout(window: w) else {
                unmatched.append("\(w.name) (model \(w.model?.rawValue ?? "?") has no pin map yet)")
                continue
            }
            guard let (chip, reason) = GPIOChipMatcher.chip(for: w, among: chips) else {
                unmatched.append("\(w.name) (no GPIO chip matches it)")
                continue
            }
            blocks.append(Block(window: w, layout: layout, chip: chip, reason: reason))
            logger.notice(
                "protect_kernel_lines: window \(w.name) is GPIO chip \(chip.name) [\(chip.label)], matched by \(reason); writes that change a claimed line are refused"
            )
        }
        if !unmatched.isEmpty {
            let found =
                chips.isEmpty
                ? "this machine has no GPIO chips"
                : "chips: " + chips.map { "\($0.name) [\($0.label)]\($0.device.map { " at \($0)" } ?? "")" }.joined(separator: ", ")
            logger.notice("protect_kernel_lines: nothing to protect for \(unmatched.joined(separator: ", ")); \(found)")
        }
        return blocks.isEmpty ? nil : KernelLineGuard(blocks: blocks, source: source)
    }

    public func check(window: ServedRange, address: UInt64, width: AccessWidth, mask: UInt64, value: UInt64, client: ClientIdentity)
        throws(IOGateError)
    {
        let end = address &+ UInt64(width.bytes)
        for block in blocks where block.addresses.lowerBound < end && address <= block.addresses.upperBound {
            // An access that starts below the block (a 64-bit store at base-4) covers it from a byte on.
            let skip = block.window.range.base > address ? block.window.range.base - address : 0
            let offset = address + skip - block.window.range.base
            let shift = skip * 8
            let partialWidth = AccessWidth(bytes: width.bytes - Int(skip)) ?? width
            let current: UInt64? = mask & width.maxValue == width.maxValue ? nil : window.space.load(address, width) >> shift
            let pins = block.layout.pinsChanged(
                offset: offset, width: partialWidth, mask: mask >> shift, value: value >> shift, current: current)
            let offsets = pins.filter { $0 < block.chip.lines.count }
            guard !offsets.isEmpty else { continue }
            let lines: [GPIOLineInfo]
            do { lines = try source.lines(chip: block.chip.name, offsets: offsets) } catch {
                throw IOGateError(
                    .lineBusy,
                    "cannot check the GPIO lines of \(block.chip.name) [\(block.chip.label)] that the write at \(hex(address)) would change (\(error.message)); refused, as protect_kernel_lines is on"
                )
            }
            let busy = lines.filter(\.used)
            guard let first = busy.first else { continue }
            let kinds = block.layout.effects(offset: offset, mask: mask >> shift).map(\.kind).filter { !$0.isReadOnly }
            let what = kinds.contains(.function) ? "function" : kinds.contains { $0.changesOutput } ? "output" : "pull"
            let others =
                busy.count > 1
                ? " (also claimed: \(busy.dropFirst().map { "pin \($0.offset) by \($0.holder)" }.joined(separator: ", ")))" : ""
            throw IOGateError(
                .lineBusy,
                "\(block.window.name) pin \(first.offset)\(first.name.map { " (\($0))" } ?? "") is claimed by \(first.holder) (GPIO chip \(block.chip.name) [\(block.chip.label)] line \(first.offset)); the \(width.bits)-bit write at \(hex(address)) would change its \(what): refused\(others). Release the line, or set protect_kernel_lines = false",
                details: .init(address: address, size: UInt64(width.bytes), pin: first.offset, consumer: first.consumer)
            )
        }
    }
}
