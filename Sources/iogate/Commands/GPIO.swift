import ArgumentParser
import IOGate

struct GPIO: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pin commands on a granted GPIO window (bcm2835, bcm2711, rp1, omap models).",
        discussion: """
            iogate gpio PIN mode FUNCTION     select the function (atomic modifies):
                                              bcm: in, out, alt0..alt5; omap: in, out;
                                              rp1: in, out, alt0..4, alt6..8, none
            iogate gpio PIN pull up|down|none select the pull (bcm2835, bcm2711, rp1)
            iogate gpio PIN get               print the level: 0 or 1
            iogate gpio PIN set 0|1           drive the pin (set/clear registers)
            iogate gpio PIN toggle            invert the output; prints the new level
            iogate gpio PIN info              print function, level and pull
            iogate gpio lines [--json]        list the kernel's GPIO chips and lines
                                              (libgpiod, /dev/gpiochip*; not the daemon)
            PIN: a number counted across the granted banks (AM335x 49 = gpio1:17), or BANK:PIN.
            On a Raspberry Pi 5 (rp1) grant the board's gpio, rio and pads windows.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pin number or BANK:PIN.") var pin: String
    @Argument(help: "mode, pull, get, set, toggle or info.") var action: String?
    @Argument(help: "The mode (in, out, alt0..alt8, none), pull (up, down, none) or level (0, 1).") var value: String?
    @Flag(name: .long, help: "With 'lines': print JSON.") var json = false

    static let actions = ["mode", "pull", "get", "set", "toggle", "info"]

    func validate() throws {
        if pin == GPIOLines.word {
            guard action == nil else { throw ValidationError("'gpio lines' takes no arguments; got '\(action!)'") }
            return
        }
        guard !json else { throw ValidationError("--json goes with 'iogate gpio lines'") }
        guard let action else {
            throw ValidationError("missing action after pin \(pin); use one of: \(Self.actions.joined(separator: ", "))")
        }
        guard Self.actions.contains(action) else {
            throw ValidationError("unknown action '\(action)'; use one of: \(Self.actions.joined(separator: ", "))")
        }
        switch action {
        case "mode":
            guard let v = value, PinFunction(v) != nil else {
                throw ValidationError("mode needs one of: \(PinFunction.allNamed.map(\.description).joined(separator: ", "))")
            }
        case "pull":
            guard let v = value, PinPull(rawValue: v) != nil else { throw ValidationError("pull needs one of: up, down, none") }
        case "set":
            guard value == "0" || value == "1" else { throw ValidationError("set needs 0 or 1") }
        default:
            guard value == nil else { throw ValidationError("\(action) takes no value; got '\(value!)'") }
        }
    }

    func run() throws {
        if pin == GPIOLines.word {
            try GPIOLines.run(json: json)
            return
        }
        let action = action!
        let gate = try global.connect()
        let p = try gate.gpio(pin)
        switch action {
        case "mode": try p.setFunction(PinFunction(value!)!, gate)
        case "pull": try p.setPull(PinPull(rawValue: value!)!, gate)
        case "get": print(try p.get(gate) ? "1" : "0")
        case "set": try p.set(value == "1", gate)
        case "toggle": print(try p.toggle(gate) ? "1" : "0")
        default:
            let pull = try p.pull(gate).map { ", pull \($0)" } ?? ""
            print(
                "\(p.window.name):\(p.pin) (\(p.layout.model.rawValue)): function \(try p.function(gate)), level \(try p.get(gate) ? 1 : 0)\(pull)"
            )
        }
    }
}
