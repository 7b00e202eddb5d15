import Glibc

/// A filled `sockaddr_un`, the one place a Unix socket path is copied into `sun_path`.
public struct UnixSocketAddress {
    /// The most bytes `sun_path` holds, the terminating NUL included.
    public static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// The path the address names.
    public let path: String
    private var storage = sockaddr_un()

    /// Thrown for a path that does not fit `sun_path`, which the kernel would truncate silently.
    public struct PathTooLong: Error, Equatable, Sendable, CustomStringConvertible {
        /// The path that did not fit.
        public let path: String
        /// Its length in bytes.
        public var bytes: Int { path.utf8.count }
        /// `"socket path P is N bytes; a Unix socket path must be shorter than 108"`.
        public var description: String {
            "socket path \(path) is \(bytes) bytes; a Unix socket path must be shorter than \(UnixSocketAddress.capacity)"
        }
    }

    /// The address of `path`; throws when `path` and its NUL do not fit `sun_path`.
    public init(_ path: String) throws(PathTooLong) {
        guard path.utf8.count < Self.capacity else { throw PathTooLong(path: path) }
        self.path = path
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { p in
            // SAFETY: path.utf8.count < capacity == p.count (checked above), so every index is in
            // bounds and the zeroed tail keeps the NUL terminator.
            for (i, b) in path.utf8.enumerated() { p[i] = b }
        }
    }

    /// Calls `body` with the address as the `sockaddr` pointer and length `bind`/`connect` take.
    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: storage) {
            // SAFETY: sockaddr_un begins with the sockaddr fields (its sa_family_t), which is what
            // the socket calls read through this pointer; the length tells them the real size.
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

extension UnixSocketAddress {
    /// Connects socket `fd` to this address. Not retried: after `EINTR` the kernel goes on
    /// connecting and a second call gives `EALREADY`, but a blocking connect to a Unix socket
    /// completes or fails at once.
    public func connect(_ fd: Int32) throws(Errno) {
        if withSockaddr({ Glibc.connect(fd, $0, $1) }) != 0 { throw Errno.current("connect \(path)") }
    }
}

/// A new close-on-exec Unix stream socket.
public func openUnixStreamSocket() throws(Errno) -> Int32 {
    try retryOnInterrupt("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
}

/// A new Unix stream socket connected to `address`; the socket is closed again if connecting fails.
public func connectUnixSocket(_ address: UnixSocketAddress) throws(Errno) -> Int32 {
    let fd = try openUnixStreamSocket()
    do throws(Errno) { try address.connect(fd) } catch {
        Descriptor.close(fd)
        throw error
    }
    return fd
}
