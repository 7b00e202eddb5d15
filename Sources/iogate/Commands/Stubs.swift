import ArgumentParser
struct GPIO: ParsableCommand {}
struct Demo: ParsableCommand {}
