/// Runs `body`, then `teardown` — also when `body` throws, before the error propagates. For
/// fixtures whose shutdown is async (a `defer` cannot await).
package func withTeardown<Result>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Result,
    teardown: () async -> Void
) async throws -> Result {
    let result: Result
    do {
        result = try await body()
    } catch {
        await teardown()
        throw error
    }
    await teardown()
    return result
}
