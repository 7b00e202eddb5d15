/// Something registers can be loaded from and stored to, by physical address.
///
/// Implemented by the `/dev/mem` mapping (volatile accesses through chunked mappings) and by the
/// mock board. Callers have already checked the address against the policy and the alignment,
/// and hold the window's lock.
public protocol RegisterSpace: AnyObject {
    /// Loads `width` bytes at the physical `address`.
    func load(_ address: UInt64, _ width: AccessWidth) -> UInt64
    /// Stores the low `width` bytes of `value` at the physical `address`.
    func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64)
}
