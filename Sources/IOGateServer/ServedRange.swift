import IOGateCore
import IOGateSystem

/// A mapped, disjoint physical range the daemon serves, with the lock that serializes
/// read-modify-writes and batches on it (the classic `GPFSEL` race of direct `/dev/mem` users).
// @unchecked Sendable: every property is immutable; `space` (a mapping or the mock) is used only
// under `lock` or by code that holds it (batches), which is the point of this type.
public final class ServedRange: @unchecked Sendable {
    public let range: PhysicalRange
    /// The board window name, when the range is one.
    public let name: String?
    /// Where accesses go: the `/dev/mem` mapping or the mock board.
    public let space: RegisterSpace
    let lock = Lock()
    /// Position in the daemon's window list; batches lock windows in this order.
    let index: Int

    init(range: PhysicalRange, name: String?, space: RegisterSpace, index: Int) {
        self.range = range
        self.name = name
        self.space = space
        self.index = index
    }

}
