extension GPIOLayout {
    /// The register's name as the SoC documentation and kernel driver call it: `GPFSEL1`, `GPSET0`,
    /// `GPIO_PUP_PDN_CNTRL_REG1` (bcm); `SETDATAOUT` (omap); `IO_BANK0.GPIO17_CTRL`,
    /// `SYS_RIO0.OUT.SET`, `PADS_BANK2.GPIO6` (rp1, bank-relative like the RP1 datasheet, with the
    /// alias as a suffix). nil for an offset the layout does not model.
    public func registerName(at offset: UInt64) -> String? {
        guard let reg = register(at: offset) else { return nil }
        switch model {
        case .omap:
            let names: [GPIORegisterKind: String] = [
                .function: "OE", .level: "DATAIN", .outputLatch: "DATAOUT", .outputClear: "CLEARDATAOUT", .outputSet: "SETDATAOUT",
            ]
            return names[reg.kind]
        case .rp1:
            let bank = Rp1.bank(of: reg.firstPin), b = bank.index
            let name: String
            switch reg.kind {
            case .function: name = "IO_BANK\(b).GPIO\(bank.line)_CTRL"
            case .pad: name = "PADS_BANK\(b).GPIO\(bank.line)"
            case .outputLatch: name = "SYS_RIO\(b).OUT"
            case .outputEnable: name = "SYS_RIO\(b).OE"
            default: name = "SYS_RIO\(b).IN"
            }
            let suffix: [GPIORegisterAlias: String] = [.toggle: ".XOR", .set: ".SET", .clear: ".CLR"]
            return name + (reg.alias.flatMap { suffix[$0] } ?? "")
        default:
            // BCM283x/BCM2711 names number the registers of one kind from its first offset.
            let first: [GPIORegisterKind: (String, UInt64)] = [
                .function: ("GPFSEL", Bcm.gpfsel0), .outputSet: ("GPSET", Bcm.gpset0), .outputClear: ("GPCLR", Bcm.gpclr0),
                .level: ("GPLEV", Bcm.gplev0), .pullClock: ("GPPUDCLK", Bcm.gppudclk0), .pull: ("GPIO_PUP_PDN_CNTRL_REG", Bcm.pupPdnCntrl0),
            ]
            if reg.kind == .pullControl { return "GPPUD" }
            return first[reg.kind].map { "\($0.0)\((offset - $0.1) / 4)" }
        }
    }
}
