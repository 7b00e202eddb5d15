import Glibc
import IOGateCore
import IOGateSystem

/// Looks up users and groups through the system's NSS (getpwnam/getgrnam).
public enum Accounts {
    /// The uid of a user name.
    public static func uid(of name: String) -> UInt32? {
        guard let pw = getpwnam(name) else { return nil }
        return pw.pointee.pw_uid
    }

    /// The gid of a group name.
    public static func gid(of name: String) -> UInt32? {
        guard let gr = getgrnam(name) else { return nil }
        return gr.pointee.gr_gid
    }

    /// The primary gid of a uid, if it has a passwd entry.
    public static func primaryGroup(of uid: UInt32) -> UInt32? {
        guard let pw = getpwuid(uid) else { return nil }
        return pw.pointee.pw_gid
    }

    /// The command name of a process, for the audit log only (never for identity: the pid may have
    /// been reused by the time it is read).
    public static func command(ofProcess pid: Int32) -> String {
        (readTextFile("/proc/\(pid)/comm") ?? "?").filter { $0 != "\n" }
    }
}
