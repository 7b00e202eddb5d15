import Glibc

/// IPv4 TCP sockets, for the pigpio frontend: a listener and the name of a peer.
public enum TCPSocket {
    /// A listening socket on `address:port` (host byte order; port 0 picks a free one), with
    /// `SO_REUSEADDR` and close-on-exec. Returns the descriptor and the port it listens on.
    public static func listen(address: UInt32, port: UInt16, backlog: Int32 = 64) throws(Errno) -> (fd: Int32, port: UInt16) {
        let fd = try retryOnInterrupt("socket(AF_INET)") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr = in_addr(s_addr: address.bigEndian)
        // SAFETY: a sockaddr_in is passed as the sockaddr it begins with, with its own size.
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let e = Errno.current("bind/listen")
            close(fd)
            throw e
        }
        return (fd, name(fd, peer: false)?.port ?? port)
    }

    /// `address:port` of the peer of a connected socket, or nil.
    public static func peerName(_ fd: Int32) -> String? {
        name(fd, peer: true).map { a, p in "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff):\(p)" }
    }

    /// The local or peer IPv4 address (host byte order) and port of a socket.
    static func name(_ fd: Int32, peer: Bool) -> (address: UInt32, port: UInt16)? {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: the kernel writes at most `len` bytes, the size of the sockaddr_in passed.
        let r = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &len) : getsockname(fd, $0, &len) }
        }
        guard r == 0, a.sin_family == sa_family_t(AF_INET) else { return nil }
        return (UInt32(bigEndian: a.sin_addr.s_addr), UInt16(bigEndian: a.sin_port))
    }
}
