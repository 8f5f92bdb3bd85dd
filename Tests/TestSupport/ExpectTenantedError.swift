package import Tenanted
package import Testing

/// Asserts that `body` throws a ``TenantedError`` with `code`, also when it arrives wrapped as the
/// underlying error of another error.
package func expectTenantedError(
    _ code: TenantedError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as TenantedError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(String(reflecting: error))", sourceLocation: sourceLocation)
    }
}
