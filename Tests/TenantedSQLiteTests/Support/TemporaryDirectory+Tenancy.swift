import TenantedTestSupport
import Logging
import NIOPosix
import Tenanted
import TenantedSQLite
import Testing

extension TemporaryDirectory {
    /// Runs `body` with a tenancy over a store rooted in this directory, and always shuts it down.
    func withTenancy(
        _ configuration: Tenancy.Configuration = .init(),
        migrator: SQLMigrator? = .base,
        seed: TenantSeed<SQLitePool>? = nil,
        delegate: any TenancyDelegate = NoTenancyDelegate(),
        busyTimeout: Duration? = nil,
        _ body: (Tenancy) async throws -> Void
    ) async throws {
        // A thread pool of the tenancy's own: the tests of the whole package run at once, and some
        // block threads on purpose (busy timeouts, WAL checkpoints waiting for a loaded disk); on the
        // shared two-thread pool, those waits queued this test's queries behind them.
        let threads = NIOThreadPool(numberOfThreads: 4)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let tenancy = try Tenancy(
            store: try store { configuration in
                configuration.threadPool = threads
                if let busyTimeout { configuration.busyTimeout = busyTimeout }
            },
            configuration: configuration,
            migrator: migrator,
            seed: seed,
            delegate: delegate,
            logger: .silent
        )
        do {
            try await body(tenancy)
        } catch {
            await tenancy.shutdown()
            throw error
        }
        await tenancy.shutdown()
    }
}

/// The pool of the current tenant scope.
func currentPool(sourceLocation: SourceLocation = #_sourceLocation) throws -> SQLitePool {
    try #require(Tenant.lease?.pool as? SQLitePool, sourceLocation: sourceLocation)
}

extension Tenancy {
    /// The tenancy's store as the `SQLiteStore` every tenancy of these tests has.
    var typedStore: SQLiteStore {
        get throws { try store(as: SQLiteStore.self) }
    }
}
