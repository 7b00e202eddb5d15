import IOGateCore

/// Finds the GPIO chip that drives a board's GPIO window, so a pin of the window can be looked up
/// as a line of the chip (pin n of a supported block is line offset n of its chip).
public enum GPIOChipMatcher {
    /// How a chip was matched, for the log.
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        /// The board file's `gpiochip_label`.
        case boardLabel(String)
        /// The chip's sysfs parent device is at an address inside the window (`fe200000.gpio`).
        case deviceAddress(String)
        /// The register model's well-known driver label, on exactly one chip.
        case modelLabel(String)

        public var description: String {
            switch self {
            case .boardLabel(let l): "label \"\(l)\" from the board file"
            case .deviceAddress(let d): "sysfs device \(d) inside the window"
            case .modelLabel(let l): "driver label \"\(l)\""
            }
        }
    }

    /// The label the kernel driver gives a block's chip, where it is fixed:
    /// drivers/pinctrl/bcm/pinctrl-bcm2835.c names its gpio_chip `MODULE_NAME` ("pinctrl-bcm2835")
    /// or "pinctrl-bcm2711", and drivers/pinctrl/pinctrl-rp1.c its 54-line chip `MODULE_NAME`
    /// ("pinctrl-rp1"). drivers/gpio/gpio-omap.c labels banks "gpio-0-31", "gpio-32-63", ...
    /// from a counter in probe order, which need not be address order, so omap banks are matched
    /// by their sysfs device (`44e07000.gpio`) only.
    public static func driverLabel(for model: GPIOModelKind) -> String? {
        switch model {
        case .bcm2835: "pinctrl-bcm2835"
        case .bcm2711: "pinctrl-bcm2711"
        case .rp1: "pinctrl-rp1"
        default: nil
        }
    }

    /// The chip for `window`, in order of trust: the board file's label, the chip's sysfs device
    /// address, then the model's driver label. A label that several chips share matches none.
    public static func chip(for window: BoardWindow, among chips: [GPIOChipInfo]) -> (chip: GPIOChipInfo, reason: Reason)? {
        func unique(label: String) -> GPIOChipInfo? {
            let found = chips.filter { $0.label == label }
            return found.count == 1 ? found[0] : nil
        }
        if let label = window.gpiochipLabel, let c = unique(label: label) { return (c, .boardLabel(label)) }
        let byAddress = chips.filter { c in c.physicalAddress.map { window.range.contains($0, size: 1) } ?? false }
        if byAddress.count == 1, let d = byAddress[0].device { return (byAddress[0], .deviceAddress(d)) }
        if window.gpiochipLabel == nil, let model = window.model, let label = driverLabel(for: model), let c = unique(label: label) {
            return (c, .modelLabel(label))
        }
        return nil
    }
}

extension GPIOChipMatcher {
    /// Who holds each claimed line of the chip that drives `window`, by line offset (= the pin of
    /// the block): the consumer name, or `kernel` for a claim without one. Empty when no chip
    /// matches the window (no GPIO character device, a mock board).
    public static func consumers(for window: BoardWindow, among chips: [GPIOChipInfo]) -> [Int: String] {
        guard let chip = chip(for: window, among: chips)?.chip else { return [:] }
        var held: [Int: String] = [:]
        for line in chip.lines where line.used { held[line.offset] = line.consumer ?? "kernel" }
        return held
    }
}
