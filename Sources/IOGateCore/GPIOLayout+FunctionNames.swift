/// The peripheral signal each alternate function of a pin carries, as the SoC documentation names it
/// (`TXD0` for GPIO14's alt0 on BCM2835): what `iogate pins` shows beside `alt0`.
///
/// Sources:
/// - `bcm2835`: BCM2835 ARM Peripherals (Broadcom, 2012), section 6.2 "Alternative Function
///   Assignments", table 6-31, GPIO0-45. GPIO46-53 are marked internal there and have no names.
/// - `bcm2711`: BCM2711 ARM Peripherals (Raspberry Pi Ltd, 2020-2022), section 5.3 "Alternative
///   Function Assignments", GPIO0-45 (the datasheet's `UART` signals as `TXDn`/`RXDn`/`CTSn`/`RTSn`,
///   the I2C slave as `BSCSL_*`); GPIO46-57 are board-internal and not named here.
/// - `rp1`: RP1 Peripherals (Raspberry Pi Ltd, 2023), section 3.1.1 "Function select", bank 0
///   (GPIO0-27, the 40-pin header), functions a0...a8; a5 is the GPIO function itself (SYS_RIO),
///   which `PinFunction` shows as `in` or `out`. The spelling follows Raspberry Pi's `pinctrl`
///   tool (raspberrypi/utils), which prints the same table.
/// `<reserved>` and empty cells of the tables are nil.
extension GPIOLayout {
    /// The signal `function` connects `pin` to, or nil for `in`, `out`, `none`, a reserved
    /// alternate function, or a pin the tables above do not name.
    public func functionName(pin: Int, _ function: PinFunction) -> String? {
        guard case .alt(let n) = function, pin >= 0 else { return nil }
        let table: [[String]]
        switch model {
        case .bcm2835: table = GPIOFunctionNames.bcm2835
        case .bcm2711: table = GPIOFunctionNames.bcm2711
        case .rp1: table = GPIOFunctionNames.rp1
        default: return nil
        }
        guard pin < table.count, n < table[pin].count, !table[pin][n].isEmpty else { return nil }
        return table[pin][n]
    }
}

/// The tables behind `GPIOLayout.functionName(pin:_:)`: row = GPIO number, column = ALTn; "" is
/// a reserved or undocumented cell.
enum GPIOFunctionNames {
    /// BCM2835 ARM Peripherals, table 6-31: ALT0...ALT5 of GPIO0-45.
    static let bcm2835: [[String]] = [
        ["SDA0", "SA5", "", "", "", ""],
        ["SCL0", "SA4", "", "", "", ""],
        ["SDA1", "SA3", "", "", "", ""],
        ["SCL1", "SA2", "", "", "", ""],
        ["GPCLK0", "SA1", "", "", "", "ARM_TDI"],
        ["GPCLK1", "SA0", "", "", "", "ARM_TDO"],
        ["GPCLK2", "SOE_N/SE", "", "", "", "ARM_RTCK"],
        ["SPI0_CE1_N", "SWE_N/SRW_N", "", "", "", ""],
        ["SPI0_CE0_N", "SD0", "", "", "", ""],
        ["SPI0_MISO", "SD1", "", "", "", ""],
        ["SPI0_MOSI", "SD2", "", "", "", ""],
        ["SPI0_SCLK", "SD3", "", "", "", ""],
        ["PWM0", "SD4", "", "", "", "ARM_TMS"],
        ["PWM1", "SD5", "", "", "", "ARM_TCK"],
        ["TXD0", "SD6", "", "", "", "TXD1"],
        ["RXD0", "SD7", "", "", "", "RXD1"],
        ["", "SD8", "", "CTS0", "SPI1_CE2_N", "CTS1"],
        ["", "SD9", "", "RTS0", "SPI1_CE1_N", "RTS1"],
        ["PCM_CLK", "SD10", "", "BSCSL_SDA/MOSI", "SPI1_CE0_N", "PWM0"],
        ["PCM_FS", "SD11", "", "BSCSL_SCL/SCLK", "SPI1_MISO", "PWM1"],
        ["PCM_DIN", "SD12", "", "BSCSL/MISO", "SPI1_MOSI", "GPCLK0"],
        ["PCM_DOUT", "SD13", "", "BSCSL/CE", "SPI1_SCLK", "GPCLK1"],
        ["", "SD14", "", "SD1_CLK", "ARM_TRST", ""],
        ["", "SD15", "", "SD1_CMD", "ARM_RTCK", ""],
        ["", "SD16", "", "SD1_DAT0", "ARM_TDO", ""],
        ["", "SD17", "", "SD1_DAT1", "ARM_TCK", ""],
        ["", "", "", "SD1_DAT2", "ARM_TDI", ""],
        ["", "", "", "SD1_DAT3", "ARM_TMS", ""],
        ["SDA0", "SA5", "PCM_CLK", "", "", ""],
        ["SCL0", "SA4", "PCM_FS", "", "", ""],
        ["", "SA3", "PCM_DIN", "CTS0", "", "CTS1"],
        ["", "SA2", "PCM_DOUT", "RTS0", "", "RTS1"],
        ["GPCLK0", "SA1", "", "TXD0", "", "TXD1"],
        ["", "SA0", "", "RXD0", "", "RXD1"],
        ["GPCLK0", "SOE_N/SE", "", "", "", ""],
        ["SPI0_CE1_N", "SWE_N/SRW_N", "", "", "", ""],
        ["SPI0_CE0_N", "SD0", "TXD0", "", "", ""],
        ["SPI0_MISO", "SD1", "RXD0", "", "", ""],
        ["SPI0_MOSI", "SD2", "RTS0", "", "", ""],
        ["SPI0_SCLK", "SD3", "CTS0", "", "", ""],
        ["PWM0", "SD4", "", "", "SPI2_MISO", "TXD1"],
        ["PWM1", "SD5", "", "", "SPI2_MOSI", "RXD1"],
        ["GPCLK1", "SD6", "", "", "SPI2_SCLK", "RTS1"],
        ["GPCLK2", "SD7", "", "", "SPI2_CE0_N", "CTS1"],
        ["GPCLK1", "SDA0", "SDA1", "", "SPI2_CE1_N", ""],
        ["PWM1", "SCL0", "SCL1", "", "SPI2_CE2_N", ""],
    ]

    /// BCM2711 ARM Peripherals, section 5.3: ALT0...ALT5 of GPIO0-45.
    static let bcm2711: [[String]] = [
        ["SDA0", "SA5", "PCLK", "SPI3_CE0_N", "TXD2", "SDA6"],
        ["SCL0", "SA4", "DE", "SPI3_MISO", "RXD2", "SCL6"],
        ["SDA1", "SA3", "LCD_VSYNC", "SPI3_MOSI", "CTS2", "SDA3"],
        ["SCL1", "SA2", "LCD_HSYNC", "SPI3_SCLK", "RTS2", "SCL3"],
        ["GPCLK0", "SA1", "DPI_D0", "SPI4_CE0_N", "TXD3", "SDA3"],
        ["GPCLK1", "SA0", "DPI_D1", "SPI4_MISO", "RXD3", "SCL3"],
        ["GPCLK2", "SOE_N/SE", "DPI_D2", "SPI4_MOSI", "CTS3", "SDA4"],
        ["SPI0_CE1_N", "SWE_N/SRW_N", "DPI_D3", "SPI4_SCLK", "RTS3", "SCL4"],
        ["SPI0_CE0_N", "SD0", "DPI_D4", "BSCSL/CE_N", "TXD4", "SDA4"],
        ["SPI0_MISO", "SD1", "DPI_D5", "BSCSL/MISO", "RXD4", "SCL4"],
        ["SPI0_MOSI", "SD2", "DPI_D6", "BSCSL_SDA/MOSI", "CTS4", "SDA5"],
        ["SPI0_SCLK", "SD3", "DPI_D7", "BSCSL_SCL/SCLK", "RTS4", "SCL5"],
        ["PWM0_0", "SD4", "DPI_D8", "SPI5_CE0_N", "TXD5", "SDA5"],
        ["PWM0_1", "SD5", "DPI_D9", "SPI5_MISO", "RXD5", "SCL5"],
        ["TXD0", "SD6", "DPI_D10", "SPI5_MOSI", "CTS5", "TXD1"],
        ["RXD0", "SD7", "DPI_D11", "SPI5_SCLK", "RTS5", "RXD1"],
        ["", "SD8", "DPI_D12", "CTS0", "SPI1_CE2_N", "CTS1"],
        ["", "SD9", "DPI_D13", "RTS0", "SPI1_CE1_N", "RTS1"],
        ["PCM_CLK", "SD10", "DPI_D14", "SPI6_CE0_N", "SPI1_CE0_N", "PWM0_0"],
        ["PCM_FS", "SD11", "DPI_D15", "SPI6_MISO", "SPI1_MISO", "PWM0_1"],
        ["PCM_DIN", "SD12", "DPI_D16", "SPI6_MOSI", "SPI1_MOSI", "GPCLK0"],
        ["PCM_DOUT", "SD13", "DPI_D17", "SPI6_SCLK", "SPI1_SCLK", "GPCLK1"],
        ["SD0_CLK", "SD14", "DPI_D18", "SD1_CLK", "ARM_TRST", "SDA6"],
        ["SD0_CMD", "SD15", "DPI_D19", "SD1_CMD", "ARM_RTCK", "SCL6"],
        ["SD0_DAT0", "SD16", "DPI_D20", "SD1_DAT0", "ARM_TDO", "SPI3_CE1_N"],
        ["SD0_DAT1", "SD17", "DPI_D21", "SD1_DAT1", "ARM_TCK", "SPI4_CE1_N"],
        ["SD0_DAT2", "", "DPI_D22", "SD1_DAT2", "ARM_TDI", "SPI5_CE1_N"],
        ["SD0_DAT3", "", "DPI_D23", "SD1_DAT3", "ARM_TMS", "SPI6_CE1_N"],
        ["SDA0", "SA5", "PCM_CLK", "", "MII_A_RX_ERR", "RGMII_MDIO"],
        ["SCL0", "SA4", "PCM_FS", "", "MII_A_TX_ERR", "RGMII_MDC"],
        ["", "SA3", "PCM_DIN", "CTS0", "MII_A_CRS", "CTS1"],
        ["", "SA2", "PCM_DOUT", "RTS0", "MII_A_COL", "RTS1"],
        ["GPCLK0", "SA1", "", "TXD0", "SD_CARD_PRES", "TXD1"],
        ["", "SA0", "", "RXD0", "SD_CARD_WRPROT", "RXD1"],
        ["GPCLK0", "SOE_N/SE", "", "SD1_CLK", "SD_CARD_LED", "RGMII_IRQ"],
        ["SPI0_CE1_N", "SWE_N/SRW_N", "", "SD1_CMD", "RGMII_START_STOP", ""],
        ["SPI0_CE0_N", "SD0", "TXD0", "SD1_DAT0", "RGMII_RX_OK", "MII_A_RX_ERR"],
        ["SPI0_MISO", "SD1", "RXD0", "SD1_DAT1", "RGMII_MDIO", "MII_A_TX_ERR"],
        ["SPI0_MOSI", "SD2", "RTS0", "SD1_DAT2", "RGMII_MDC", "MII_A_CRS"],
        ["SPI0_SCLK", "SD3", "CTS0", "SD1_DAT3", "RGMII_IRQ", "MII_A_COL"],
        ["PWM1_0", "SD4", "", "SD1_DAT4", "SPI0_MISO", "TXD1"],
        ["PWM1_1", "SD5", "", "SD1_DAT5", "SPI0_MOSI", "RXD1"],
        ["GPCLK1", "SD6", "", "SD1_DAT6", "SPI0_SCLK", "RTS1"],
        ["GPCLK2", "SD7", "", "SD1_DAT7", "SPI0_CE0_N", "CTS1"],
        ["GPCLK1", "SDA0", "SDA1", "", "SPI0_CE1_N", "SD_CARD_VOLT"],
        ["PWM0_1", "SCL0", "SCL1", "", "SPI0_CE2_N", "SD_CARD_PWR0"],
    ]

    /// RP1 Peripherals, section 3.1.1: a0...a8 of bank 0 (GPIO0-27). Column 5 (SYS_RIO) is the GPIO
    /// function, never shown as an alternate function.
    static let rp1: [[String]] = [
        ["SPI0_SIO3", "DPI_PCLK", "TXD1", "SDA0", "", "SYS_RIO00", "PROC_RIO00", "PIO0", "SPI2_CE0"],
        ["SPI0_SIO2", "DPI_DE", "RXD1", "SCL0", "", "SYS_RIO01", "PROC_RIO01", "PIO1", "SPI2_SIO1"],
        ["SPI0_CE3", "DPI_VSYNC", "CTS1", "SDA1", "IR_RX0", "SYS_RIO02", "PROC_RIO02", "PIO2", "SPI2_SIO0"],
        ["SPI0_CE2", "DPI_HSYNC", "RTS1", "SCL1", "IR_TX0", "SYS_RIO03", "PROC_RIO03", "PIO3", "SPI2_SCLK"],
        ["GPCLK0", "DPI_D0", "TXD2", "SDA2", "RI0", "SYS_RIO04", "PROC_RIO04", "PIO4", "SPI3_CE0"],
        ["GPCLK1", "DPI_D1", "RXD2", "SCL2", "DTR0", "SYS_RIO05", "PROC_RIO05", "PIO5", "SPI3_SIO1"],
        ["GPCLK2", "DPI_D2", "CTS2", "SDA3", "DCD0", "SYS_RIO06", "PROC_RIO06", "PIO6", "SPI3_SIO0"],
        ["SPI0_CE1", "DPI_D3", "RTS2", "SCL3", "DSR0", "SYS_RIO07", "PROC_RIO07", "PIO7", "SPI3_SCLK"],
        ["SPI0_CE0", "DPI_D4", "TXD3", "SDA0", "", "SYS_RIO08", "PROC_RIO08", "PIO8", "SPI4_CE0"],
        ["SPI0_MISO", "DPI_D5", "RXD3", "SCL0", "", "SYS_RIO09", "PROC_RIO09", "PIO9", "SPI4_SIO0"],
        ["SPI0_MOSI", "DPI_D6", "CTS3", "SDA1", "", "SYS_RIO010", "PROC_RIO010", "PIO10", "SPI4_SIO1"],
        ["SPI0_SCLK", "DPI_D7", "RTS3", "SCL1", "", "SYS_RIO011", "PROC_RIO011", "PIO11", "SPI4_SCLK"],
        ["PWM0_CHAN0", "DPI_D8", "TXD4", "SDA2", "AAUD_LEFT", "SYS_RIO012", "PROC_RIO012", "PIO12", "SPI5_CE0"],
        ["PWM0_CHAN1", "DPI_D9", "RXD4", "SCL2", "AAUD_RIGHT", "SYS_RIO013", "PROC_RIO013", "PIO13", "SPI5_SIO1"],
        ["PWM0_CHAN2", "DPI_D10", "CTS4", "SDA3", "TXD0", "SYS_RIO014", "PROC_RIO014", "PIO14", "SPI5_SIO0"],
        ["PWM0_CHAN3", "DPI_D11", "RTS4", "SCL3", "RXD0", "SYS_RIO015", "PROC_RIO015", "PIO15", "SPI5_SCLK"],
        ["SPI1_CE2", "DPI_D12", "DSI0_TE_EXT", "", "CTS0", "SYS_RIO016", "PROC_RIO016", "PIO16", ""],
        ["SPI1_CE1", "DPI_D13", "DSI1_TE_EXT", "", "RTS0", "SYS_RIO017", "PROC_RIO017", "PIO17", ""],
        ["SPI1_CE0", "DPI_D14", "I2S0_SCLK", "PWM0_CHAN2", "I2S1_SCLK", "SYS_RIO018", "PROC_RIO018", "PIO18", "GPCLK1"],
        ["SPI1_MISO", "DPI_D15", "I2S0_WS", "PWM0_CHAN3", "I2S1_WS", "SYS_RIO019", "PROC_RIO019", "PIO19", ""],
        ["SPI1_MOSI", "DPI_D16", "I2S0_SDI0", "GPCLK0", "I2S1_SDI0", "SYS_RIO020", "PROC_RIO020", "PIO20", ""],
        ["SPI1_SCLK", "DPI_D17", "I2S0_SDO0", "GPCLK1", "I2S1_SDO0", "SYS_RIO021", "PROC_RIO021", "PIO21", ""],
        ["SD0_CLK", "DPI_D18", "I2S0_SDI1", "SDA3", "I2S1_SDI1", "SYS_RIO022", "PROC_RIO022", "PIO22", ""],
        ["SD0_CMD", "DPI_D19", "I2S0_SDO1", "SCL3", "I2S1_SDO1", "SYS_RIO023", "PROC_RIO023", "PIO23", ""],
        ["SD0_DAT0", "DPI_D20", "I2S0_SDI2", "", "I2S1_SDI2", "SYS_RIO024", "PROC_RIO024", "PIO24", "SPI2_CE1"],
        ["SD0_DAT1", "DPI_D21", "I2S0_SDO2", "MIC_CLK", "I2S1_SDO2", "SYS_RIO025", "PROC_RIO025", "PIO25", "SPI3_CE1"],
        ["SD0_DAT2", "DPI_D22", "I2S0_SDI3", "MIC_DAT0", "I2S1_SDI3", "SYS_RIO026", "PROC_RIO026", "PIO26", "SPI5_CE1"],
        ["SD0_DAT3", "DPI_D23", "I2S0_SDO3", "MIC_DAT1", "I2S1_SDO3", "SYS_RIO027", "PROC_RIO027", "PIO27", "SPI1_CE1"],
    ]
}
