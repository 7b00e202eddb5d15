import Glibc
import IOGateCore

/// Users and groups through the system's NSS (`getpwnam`, `getgrnam`, `getgrouplist`).
public enum Accounts {
    /// The uid of a user name.
    public static func uid(of name: String) -> UInt32? { account(named: name)?.uid }

    /// The gid of a group name.
    public static func gid(of name: String) -> UInt32? {
        // SAFETY: getgrnam returns nil or a pointer to a static entry valid until the next call;
        // the gid is copied out at once.
        getgrnam(name).map { $0.pointee.gr_gid }
    }

    /// The uid and primary gid of a user name.
    public static func account(named name: String) -> (uid: UInt32, gid: UInt32)? {
        // SAFETY: as in gid(of:): the static passwd entry is read at once.
        getpwnam(name).map { ($0.pointee.pw_uid, $0.pointee.pw_gid) }
    }

    /// The primary gid of a uid, if it has a passwd entry.
    public static func primaryGroup(of uid: UInt32) -> UInt32? {
        // SAFETY: as in gid(of:).
        getpwuid(uid).map { $0.pointee.pw_gid }
    }

    /// The groups of a uid's account with `gid` among them (`getgrouplist`); `[gid]` when the uid
    /// has no passwd entry.
    public static func groups(of uid: UInt32, gid: UInt32) -> [UInt32] {
        // SAFETY: the user name is copied out of the static passwd entry before anything else runs.
        guard let name = getpwuid(uid).map({ String(cString: $0.pointee.pw_name) }) else { return [gid] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, gid, &groups, &count) >= 0 else { return [gid] }
        }
        return Array(groups.prefix(Int(count)))
    }

    /// The command name of a process, for the audit log only (never for identity: the pid may have
    /// been reused by the time it is read).
    public static func command(ofProcess pid: Int32) -> String {
        (readTextFile("/proc/\(pid)/comm") ?? "?").filter { $0 != "\n" }
    }
}
