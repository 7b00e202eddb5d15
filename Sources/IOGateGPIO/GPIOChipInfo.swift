/// One GPIO chip (`/dev/gpiochipN`) and its lines.
public struct GPIOChipInfo: Hashable, Sendable, Codable {
    /// The device name, e.g. `gpiochip0`.
    public var name: String
    /// The driver's label, e.g. `pinctrl-bcm2711`, `gpio-0-31`.
    public var label: String
    /// The parent device in sysfs, e.g. `fe200000.gpio` (device-tree platform devices are named
    /// after their translated `reg` address), when known.
    public var device: String?
    /// The lines, by offset.
    public var lines: [GPIOLineInfo]

    /// Creates a chip description.
    public init(name: String, label: String, device: String? = nil, lines: [GPIOLineInfo]) {
        self.name = name
        self.label = label
        self.device = device
        self.lines = lines
    }

    /// The physical address in the device name (`fe200000.gpio` -> 0xFE200000), if it has one.
    public var physicalAddress: UInt64? {
        guard let device, let dot = device.firstIndex(of: "."), dot != device.startIndex else { return nil }
        return UInt64(device[..<dot], radix: 16)
    }
}
