import Logging
import PostgresNIO
import Tenanted
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// The placement watcher listens only on a connection that reaches PostgreSQL itself. Through a
/// pooler a `LISTEN` would stay on a pooled server session and its notifications would reach other
/// clients' connections, which postgres-nio answers by stopping the process; there it polls.
@Suite(.enabled(if: PostgresTestServer.hasPgBouncers, PostgresTestServer.pgbouncerUnsetReason))
struct WatcherPoolerDetectionTests {
    @Test("a direct connection reaches the server; one through PgBouncer, in either pooling mode, does not")
    func detection() async throws {
        let direct = try PostgresTestServer.primary()
        #expect(try await PostgresTestStores.withConnection(to: direct) {
            try await PlacementWatcher.reachesServerDirectly($0, port: direct.port, logger: .silent)
        })
        for mode in PoolingMode.allCases {
            let pooled = try mode.server()
            let reaches = try await PostgresTestStores.withConnection(to: pooled) {
                try await PlacementWatcher.reachesServerDirectly($0, port: pooled.port, logger: .silent)
            }
            #expect(!reaches, "\(mode)")
        }
    }
}
