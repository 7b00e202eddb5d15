import CIOGateSys
import Glibc
import IOGateCore
import IOGateSystem

/// Dropping root after the device is mapped and the socket bound.
public enum Privileges {
    /// Resolves the configured account to (uid, gid).
    public static func resolve(_ user: Subject) throws(IOGateError) -> (uid: UInt32, gid: UInt32) {
        switch user {
        case .uid(let u):
            return (u, Accounts.primaryGroup(of: u) ?? u)
        case .user(let name):
            guard let account = Accounts.account(named: name) else {
                throw IOGateError(.config, "user '\(name)' (to drop privileges to) does not exist")
            }
            return account
        default:
            throw IOGateError(.config, "'user' must be a user name or uid")
        }
    }

    /// Clears supplementary groups, sets gid then uid, and forbids regaining privileges.
    /// Verifies the drop cannot be undone.
    public static func drop(to account: (uid: UInt32, gid: UInt32)) throws(IOGateError) {
        if getuid() != account.uid || geteuid() != account.uid {
            try syscall("setgroups([])") { setgroups(0, nil) }
            try syscall("setgid(\(account.gid))") { setgid(account.gid) }
            try syscall("setuid(\(account.uid))") { setuid(account.uid) }
            if account.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0) {
                throw IOGateError(.system, "privileges could be regained after dropping to uid \(account.uid); refusing to run")
            }
        }
        try noNewPrivileges()
    }

    /// `PR_SET_NO_NEW_PRIVS`: no exec can grant privileges again.
    public static func noNewPrivileges() throws(IOGateError) {
        try syscall("prctl(PR_SET_NO_NEW_PRIVS)") { iogate_set_no_new_privs() }
    }

    /// Confines the process to the system calls serving needs (see CIOGateSys/seccomp.c);
    /// anything else then fails with EPERM.
    public static func installSeccomp() throws(IOGateError) {
        let rc = iogate_install_seccomp()
        guard rc == 0 else { throw IOGateError(.system, "cannot install the seccomp filter: \(Errno.text(-rc))") }
    }

    /// Installs the filter in this process and tries calls it must refuse; returns the findings,
    /// one line each, and whether every forbidden call was refused. Used by `iogated --seccomp-selftest`.
    public static func seccompSelfTest() -> (lines: [String], ok: Bool) {
        var lines: [String] = []
        var ok = true
        do {
            try noNewPrivileges()
            try installSeccomp()
        } catch {
            return (["cannot install the filter: \(error.message)"], false)
        }
        func expectRefused(_ what: String, _ call: () -> Int) {
            let r = call()
            let e = errno
            let refused = r == -1 && e == EPERM
            ok = ok && refused
            lines.append("\(refused ? "refused" : "ALLOWED"): \(what)\(refused ? "" : " (returned \(r), errno \(e))")")
        }
        expectRefused("execve(/bin/true)") {
            // SAFETY: a NULL-terminated argv of one strdup'd string, alive across the call (the
            // filter refuses execve, so it never replaces this process; the 10 bytes stay allocated).
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            return Int(execve("/bin/true", &argv, nil))
        }
        expectRefused("socket(AF_INET)") { Int(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)) }
        expectRefused("open(/etc/hostname, O_RDWR)") { Int(open("/etc/hostname", O_RDWR)) }
        expectRefused("open(/tmp/iogate-seccomp-probe, O_WRONLY|O_CREAT)") {
            Int(open("/tmp/iogate-seccomp-probe", O_WRONLY | O_CREAT, 0o600))
        }
        expectRefused("mmap of a file descriptor") {
            let fd = open("/proc/self/status", O_RDONLY)
            let p = mmap(nil, 4096, PROT_READ, MAP_PRIVATE, fd, 0)
            return p == MAP_FAILED ? -1 : 0
        }
        expectRefused("setuid(0)") { Int(setuid(0)) }
        let fd = open("/proc/self/status", O_RDONLY)
        let readable = fd >= 0
        ok = ok && readable
        lines.append("\(readable ? "allowed" : "REFUSED"): open(/proc/self/status, O_RDONLY)")
        return (lines, ok)
    }
}
