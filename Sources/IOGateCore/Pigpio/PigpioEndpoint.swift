/// The TCP address the pigpio frontend listens on: `pigpio_listen = "127.0.0.1:8888"`.
///
/// IPv4 only (pigpio's own daemon listens on IPv4 by default); `localhost` means 127.0.0.1.
public struct PigpioEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The address bytes, most significant first.
    public let octets: [UInt8]
    /// The TCP port; 0 lets the kernel pick one.
    public let port: UInt16

    /// Parses `HOST:PORT` where HOST is a dotted IPv4 address or `localhost`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon], portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = UInt16(portText) else { return nil }
        if host == "localhost" {
            octets = [127, 0, 0, 1]
        } else {
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var o: [UInt8] = []
            for p in parts {
                guard (1...3).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else { return nil }
                o.append(v)
            }
            octets = o
        }
        self.port = port
    }

    /// True for 127.0.0.0/8, which only this machine can reach.
    public var isLoopback: Bool { octets[0] == 127 }

    /// The address in host byte order.
    public var hostOrderAddress: UInt32 { octets.reduce(0) { $0 << 8 | UInt32($1) } }

    /// `127.0.0.1:8888`.
    public var description: String { octets.map(String.init).joined(separator: ".") + ":\(port)" }
}
