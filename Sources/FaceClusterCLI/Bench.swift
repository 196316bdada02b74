import ArgumentParser

/// `facecluster bench …`: benchmark programs that print figures beside the reference peer's.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (programs that print figures, run beside the reference peers by scripts/bench-*.sh).",
        subcommands: [BenchThumbnails.self])
}
