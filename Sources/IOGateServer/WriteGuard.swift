import IOGateCore

/// A check the daemon runs before any write or modify reaches a window, after the policy allowed
/// it: for example, refusing to change a GPIO line that a kernel driver owns.
///
/// `mask` is the set of bits the operation may change (all bits of the width for a plain write);
/// `value` the bits written. Throw to refuse; the operation (or the whole batch) then does not run.
public protocol WriteGuard: AnyObject {
    func check(window: ServedRange, address: UInt64, width: AccessWidth, mask: UInt64, value: UInt64, client: ClientIdentity)
        throws(IOGateError)
}
