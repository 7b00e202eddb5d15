import Glibc
import IOGateCore
import IOGateSystem
import Synchronization

/// The optional pigpio frontend: a TCP listener (`pigpio_listen`) speaking pigpio's socket
/// protocol, one thread per connection, every command run through an `ClientAccess` for the
/// `pigpio_as` identity so the same allowlist decides as for native clients.
final class PigpioFrontend: Sendable {
    unowned let daemon: Daemon
    let fd: Int32
    /// The address bound (with the kernel's port when 0 was asked for).
    let endpoint: String
    /// Who pigpio clients act as.
    let identity: ClientIdentity
    let pins: PigpioPinMap
    let revision: UInt32
    let notifier: PigpioNotifier
    let stopping = Atomic<Bool>(false)

    /// Resolves `pigpio_as`, checks the board has a pin model, and binds the TCP socket.
    /// Call before privileges are dropped (and before the seccomp filter, which refuses `socket`).
    static func bind(daemon: Daemon) throws(IOGateError) -> PigpioFrontend? {
        let config = daemon.config
        guard let listen = config.pigpioListen else { return nil }
        guard let subject = config.pigpioAs else {
            throw IOGateError(.config, "\(config.file): pigpio_listen is set but pigpio_as is not")
        }
        guard let board = daemon.board, let pins = PigpioPinMap(board: board) else {
            let which =
                daemon.board.map { "board '\($0.id)' has no GPIO window with a supported register model (bcm2835, bcm2711, rp1, omap)" }
                ?? "no board is set"
            throw IOGateError(.config, "\(config.file): pigpio_listen needs a board whose GPIO pins IOGate can model, but \(which)")
        }
        let account: (uid: UInt32, gid: UInt32)
        do { account = try Privileges.resolve(subject) } catch {
            throw IOGateError(.config, "\(config.file): pigpio_as: \(error.message)")
        }
        let identity = ClientIdentity(
            uid: account.uid, gid: account.gid, pid: 0, groups: Accounts.groups(of: account.uid, gid: account.gid))
        let fd: Int32, port: UInt16
        do throws(Errno) { (fd, port) = try TCPSocket.listen(address: listen.hostOrderAddress, port: listen.port) } catch {
            throw IOGateError(
                .system, "cannot listen on pigpio_listen \(listen): \(error.message)", details: .init(errno: error.code, call: error.call))
        }
        let endpoint = "\(listen.octets.map(String.init).joined(separator: ".")):\(port)"
        let revision = PigpioRevision.code(boardID: board.id)
        if !listen.isLoopback {
            daemon.logger.warning(
                "pigpio frontend listens on \(endpoint), reachable from other machines: pigpio's protocol has no authentication, so anyone who can connect acts as \(subject) (pigpio_allow_remote = true)"
            )
        }
        let frontend = PigpioFrontend(daemon: daemon, fd: fd, endpoint: endpoint, identity: identity, pins: pins, revision: revision)
        daemon.logger.notice(
            "pigpio frontend on \(endpoint): clients act as \(subject) (uid \(identity.uid)), \(pins.pinCount) pins of board \(board.id)")
        return frontend
    }

    init(daemon: Daemon, fd: Int32, endpoint: String, identity: ClientIdentity, pins: PigpioPinMap, revision: UInt32) {
        self.daemon = daemon
        self.fd = fd
        self.endpoint = endpoint
        self.identity = identity
        self.pins = pins
        self.revision = revision
        notifier = PigpioNotifier(daemon: daemon, identity: identity, pins: pins)
    }

    /// Starts the accept thread.
    func startAccepting() {
        spawnThread(stackSize: 256 << 10) { [self] in
            while !stopping.load(ordering: .relaxed) {
                guard let c = Descriptor.accept(fd) else { return }  // shut down by stop()
                if stopping.load(ordering: .relaxed) {
                    close(c)
                    return
                }
                admit(c)
            }
        }
    }

    /// Counts the connection among the daemon's clients (so `max_clients` and `stop()` apply) and
    /// serves it on its own thread. No idle timeout: a notification stream is silent by design.
    func admit(_ c: Int32) {
        let full: Bool = daemon.clientsLock.locked {
            if daemon.clientFDs.count >= daemon.limits.maxClients { return true }
            daemon.clientFDs.insert(c)
            return false
        }
        if full {
            daemon.logger.warning("pigpio: too many clients (\(daemon.limits.maxClients)); connection refused")
            close(c)
            return
        }
        var one: Int32 = 1
        setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // pigpio replies and reports are 12-16 bytes: a small, fixed send buffer (the kernel
        // doubles it) bounds what a client that stops reading can pin in the kernel, and makes
        // the notifier notice such a client within seconds instead of after megabytes.
        var sendBuffer: Int32 = 16 << 10
        setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        let peer = TCPSocket.peerName(c) ?? "?"
        let started = spawnThread { [self] in
            defer {
                daemon.clientsLock.locked { _ = daemon.clientFDs.remove(c) }
                close(c)
            }
            PigpioConnection(fd: c, frontend: self, peer: peer).run()
        }
        if !started {
            daemon.clientsLock.locked { _ = daemon.clientFDs.remove(c) }
            close(c)
        }
    }

    /// Stops accepting; the daemon's `stop()` shuts the connections down with its other clients.
    func stop() {
        if stopping.exchange(true, ordering: .relaxed) { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        notifier.stop()
    }
}
