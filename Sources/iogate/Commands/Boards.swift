import ArgumentParser
import IOGate
import IOGateSystem

struct Boards: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the known boards, or show one with its windows.",
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct Location: ParsableArguments {
        @Option(name: .long, help: "Board files adding to or overriding the built-in boards (default: $IOGATE_BOARDS, ./boards).")
        var boards: String?
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the boards.")
        @OptionGroup var location: Location

        func run() throws {
            let catalog = try BoardDirectory.catalog(location.boards)
            for b in catalog.boards {
                print(b.id.padding(18) + b.soc.padding(12) + b.name)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one board and its windows.")
        @OptionGroup var location: Location
        @Argument(help: "Board id, as `iogate boards` lists.") var id: String

        func run() throws {
            let b = try BoardDirectory.catalog(location.boards).board(id: id)
            print("\(b.id): \(b.name)")
            print("soc: \(b.soc)")
            print("compatible: \(b.compatible.joined(separator: ", "))")
            if let n = b.notes { print("notes: \(n)") }
            print("")
            print("WINDOW".padding(10) + "BASE".padding(16) + "LENGTH".padding(10) + "MODEL")
            for w in b.windows {
                let model = w.model.map { "\($0.rawValue), \(w.pins ?? 0) pins" } ?? ""
                print(w.name.padding(10) + hex(w.range.base).padding(16) + hex(w.range.length).padding(10) + model)
                print("    source: \(w.source)")
                if let n = w.notes { print("    notes: \(n)") }
            }
        }
    }
}
