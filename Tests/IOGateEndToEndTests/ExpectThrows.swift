import Testing

/// `#expect(throws: type) { ... }` that returns the error it caught, or nil after recording the issue
/// when `body` threw nothing or an error of another type. Swift Testing 6.1 and later return the error
/// from `#expect(throws:)` itself; Swift 6.0's (Debian 13's swiftlang 6.0.3, which boards build with)
/// returns Void, so tests that look at the error use this instead.
@discardableResult
func expectThrows<E: Error, R>(
    _ errorType: E.Type, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    performing body: () throws -> R
) -> E? {
    do {
        let result = try body()
        Issue.record(
            comment ?? "Expected \(E.self) to be thrown, but \(result) was returned", sourceLocation: sourceLocation)
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record(
            comment ?? "Expected \(E.self) to be thrown, but \(type(of: error)) was thrown: \(error)",
            sourceLocation: sourceLocation)
        return nil
    }
}
