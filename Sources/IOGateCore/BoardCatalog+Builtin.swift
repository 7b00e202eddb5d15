extension BoardCatalog {
    /// The boards compiled into the binary (`BuiltinBoards`, generated from `boards/`).
    public static func builtin() throws(IOGateError) -> BoardCatalog {
        try BoardCatalog(files: BuiltinBoards.files.map { (file: "built-in \($0.name)", text: $0.text) })
    }

    /// This catalog with `other`'s boards added; a board of `other` replaces the one with its id.
    public func overridden(by other: BoardCatalog) -> BoardCatalog {
        let ids = Set(other.boards.map(\.id))
        return BoardCatalog(boards: boards.filter { !ids.contains($0.id) } + other.boards)
    }
}
