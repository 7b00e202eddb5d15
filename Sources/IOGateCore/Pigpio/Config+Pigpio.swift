extension Config {
    /// Parses `pigpio_listen`, `pigpio_allow_remote` and `pigpio_as`: the frontend is off without
    /// `pigpio_listen`; with it, `pigpio_as` is required, and a non-loopback address needs
    /// `pigpio_allow_remote = true` (pigpio's protocol has no authentication at all).
    static func parsePigpio(_ top: TOMLSection, into c: inout Config) throws(IOGateError) {
        c.pigpioAllowRemote = try top.bool("pigpio_allow_remote") ?? false
        if let u = top.table["pigpio_as"] {
            if let n = u.integer, let uid = UInt32(exactly: n) {
                c.pigpioAs = .uid(uid)
            } else if let s = u.string, !s.isEmpty {
                c.pigpioAs = .user(s)
            } else {
                throw top.error("'pigpio_as' must be a user name or a numeric uid", key: "pigpio_as")
            }
        }
        guard let text = try top.string("pigpio_listen") else {
            if c.pigpioAs != nil || top.has("pigpio_allow_remote") {
                let key = c.pigpioAs != nil ? "pigpio_as" : "pigpio_allow_remote"
                throw top.error(
                    "'\(key)' is set but 'pigpio_listen' is not; add pigpio_listen = \"127.0.0.1:8888\" to turn the pigpio frontend on, or remove '\(key)'",
                    key: key)
            }
            return
        }
        guard let endpoint = PigpioEndpoint(text) else {
            throw top.error(
                "'pigpio_listen' is \"\(text)\"; expected IPv4-ADDRESS:PORT or localhost:PORT, such as \"127.0.0.1:8888\"",
                key: "pigpio_listen")
        }
        guard endpoint.isLoopback || c.pigpioAllowRemote else {
            throw top.error(
                "'pigpio_listen' is \(endpoint), which other machines can reach, and pigpio's protocol has no authentication: anyone who can connect acts as 'pigpio_as'. Listen on 127.0.0.1, or set pigpio_allow_remote = true if you mean it",
                key: "pigpio_listen")
        }
        guard c.pigpioAs != nil else {
            throw top.error(
                "'pigpio_listen' is set but 'pigpio_as' is not; pigpio clients need an identity whose grants decide what they may touch, e.g. pigpio_as = \"gpio-user\"",
                key: "pigpio_listen")
        }
        c.pigpioListen = endpoint
    }
}
