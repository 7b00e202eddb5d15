import CIOGateSys
import Glibc
import IOGateCore

/// Dropping root after the device is mapped and the socket bound.
public enum Privileges {
    /// Resolves the configured account to (uid, gid).
    public static func resolve(_ user: Subject) throws(IOGateError) -> (uid: UInt32, gid: UInt32) {
        switch user {
        case .uid(let u):
            return (u, Accounts.primaryGroup(of: u) ?? u)
        case .user(let name):
            guard let pw = getpwnam(name) else { throw IOGateError(.config, "user '\(name)' (to drop privileges to) does not exist") }
            return (pw.pointee.pw_uid, pw.pointee.pw_gid)
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
}
