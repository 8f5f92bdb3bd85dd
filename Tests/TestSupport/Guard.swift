package import Testing

/// Runs `body` in its own task and returns its result, or records an issue and returns `nil` when it
/// has not finished after `limit`, so a regression that hangs cannot hang the whole suite.
///
/// On timeout the task is cancelled and left behind; the test fails through the recorded issue.
///
/// The default limit is generous on purpose: the guard tells a hang from slowness, and the whole
/// suite runs at once on a two-core machine, where a test's few milliseconds of work can wait tens of
/// seconds behind the others (CI once saw 20 seconds pass). A hang still fails, a minute later.
package func withGuard<Result: Sendable>(
    _ what: String,
    limit: Duration = .seconds(60),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result? {
    StallWatch.start()
    let outcome = Locked<Swift.Result<Result, any Error>?>(nil)
    let finished = Gate()
    let task = Task {
        let result = await Swift.Result(catching: { try await body() })
        outcome.withLock { $0 = result }
        finished.open()
    }
    guard await finished.wait(atMost: limit) else {
        task.cancel()
        Issue.record("\(what) did not finish within \(limit)", sourceLocation: sourceLocation)
        return nil
    }
    return try outcome.value?.get()
}

extension Swift.Result where Failure == any Error {
    /// Runs `body` and captures its value or error.
    package init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
