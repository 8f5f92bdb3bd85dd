import TenantedTestSupport
import Testing

/// Runs `body`. On the Vapor demo over `postgres-database` only, a request that gets no HTTP
/// response within the client's 30 s is a known, intermittent bug, recorded as a known issue: seen
/// in loaded full runs and CI (stops 24 and 25) right after another process destroyed or suspended
/// a tenant, and never yet explained (the Hummingbird demo and the schema layouts pass the same
/// steps). Any other failure, and this one on any other demo or store, fails the test as before.
func withKnownPostgresDatabaseStall(demo: Demo, store: String, _ body: () async throws -> Void) async throws {
    guard demo == .vapor, store == "postgres-database" else { return try await body() }
    try await withKnownIssue("the Vapor demo on postgres-database sometimes answers no request for 30 s after another process's change", isIntermittent: true) {
        try await body()
    } matching: { issue in
        (issue.error as? RawHTTP.Failure)?.description.hasPrefix("no HTTP response") == true
    }
}
