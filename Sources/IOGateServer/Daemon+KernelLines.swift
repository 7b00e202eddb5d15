import IOGateCore
import IOGateGPIO

extension Daemon {
    /// Registers the `KernelLineGuard` when `protect_kernel_lines` is on and there is something
    /// to protect. Runs before privileges are dropped, so libgpiod can still open the chips; they
    /// stay open for the daemon's lifetime. The mock board simulates registers that no kernel
    /// driver owns, so it is never guarded unless a test injects a line source.
    func installKernelLineGuard() {
        guard config.protectKernelLines else {
            logger.notice("protect_kernel_lines = false: writes may change GPIO lines that kernel drivers have claimed")
            return
        }
        let source: GPIOLineInfoSource
        if let gpioLines {
            source = gpioLines
        } else if mock != nil || replay != nil {
            logger.notice("protect_kernel_lines: the \(mock != nil ? "mock board" : "replay") has no kernel GPIO lines; nothing to protect")
            return
        } else {
            source = LibgpiodLineSource()
        }
        if let g = KernelLineGuard.make(board: board, served: windows.map(\.range), source: source, logger: logger) {
            writeGuards.append(g)
        }
    }
}
