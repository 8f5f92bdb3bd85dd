import Foundation
import Logging
import PostgresNIO
import Tenanted
import TenantedPostgres
import TenantedTestSupport
import Testing

/// `minimumConnectionsPerPool`: an open tenant pool keeps that many connections while idle (so
/// postgres-nio arms no idle timer per query for them), and closing the pool closes them.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct PoolMinimumConnectionsTests {
    @Test("an open pool of the database layout keeps its minimum of connections while idle, and shutdown closes them", arguments: [0, 2])
    func keptWhileOpenClosedAtShutdown(minimum: Int) async throws {
        let stores = try PostgresTestStores(layout: .databasePerTenant())
        var configuration = stores.configuration()
        configuration.minimumConnectionsPerPool = minimum
        let tenancy = try Tenancy(store: try PostgresStore(configuration: configuration), migrator: try PostgresMigrator([]), logger: .silent)
        let tenant = try TenantID("idle")
        do {
            try await tenancy.createTenant(tenant)
            let database = stores.prefix + "idle"
            // The create ran its migrations on a short-lived client that it closed before returning;
            // the server ends those backends a moment later (on a loaded machine, later than the
            // pool's first connections appear), so wait until they have gone before counting.
            #expect(try await Self.connections(to: database, reaching: 0) == 0, "the create left no connection open")
            // A lease opens the pool, whose open reads the migration log on one connection; nothing
            // else runs on it, so a second connection is there only because it is kept.
            try await tenancy.withTenant(tenant) {}
            let open = try await Self.connections(to: database, reaching: max(minimum, 1))
            #expect(open == max(minimum, 1), "the idle pool holds \(max(minimum, 1)) connections")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.connections(to: database) == open, "and no more, nor fewer, later")
            await tenancy.shutdown()
            #expect(try await Self.connections(to: database, reaching: 0) == 0, "shutdown closed every connection of the pool")
        } catch {
            await tenancy.shutdown()
            await stores.cleanUp()
            throw error
        }
        await stores.cleanUp()
    }

    @Test("the default keeps one connection with every layout; a given value is kept")
    func defaultsByLayout() throws {
        let server = try PostgresServer(name: "primary", url: "postgres://user@localhost/postgres")
        #expect(PostgresStore.Configuration(servers: [server], layout: .databasePerTenant()).minimumConnectionsPerPool == 1)
        #expect(PostgresStore.Configuration(servers: [server], layout: .schemaPerTenant(.poolPerTenant)).minimumConnectionsPerPool == 1)
        #expect(PostgresStore.Configuration(servers: [server], layout: .schemaPerTenant(.sharedPool)).minimumConnectionsPerPool == 1)
        #expect(PostgresStore.Configuration(servers: [server], layout: .databasePerTenant(), minimumConnectionsPerPool: 0).minimumConnectionsPerPool == 0)
        #expect(PostgresStore.Configuration(servers: [server], layout: .databasePerTenant(), minimumConnectionsPerPool: 2).minimumConnectionsPerPool == 2)
    }

    @Test("minimumConnectionsPerPool outside 0…maximumConnectionsPerTenant is refused, naming the option")
    func outOfRangeIsRefused() throws {
        let stores = try PostgresTestStores(layout: .databasePerTenant())
        for minimum in [-1, 5] {
            var configuration = stores.configuration(maximumConnectionsPerTenant: 4)
            configuration.minimumConnectionsPerPool = minimum
            let error = #expect(throws: TenantedError.self) { try PostgresStore(configuration: configuration) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains("minimumConnectionsPerPool is \(minimum)") == true)
        }
    }

    /// The client backends connected to `database` (from other sessions), waiting up to 30 s (a
    /// loaded machine) for the count to reach `target` when one is given. Client backends only: an
    /// autovacuum worker visiting the database shows in `pg_stat_activity` with its name too, and
    /// on a server with many databases the launcher sends one to each in turn.
    static func connections(to database: String, reaching target: Int? = nil) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let count = try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
                var count = 0
                for try await value in try await connection.query("SELECT count(*)::int FROM pg_stat_activity WHERE datname = \(database) AND backend_type = 'client backend'", logger: .silent).decode(Int.self) {
                    count = value
                }
                return count
            }
            guard let target, count != target, ContinuousClock.now < deadline else { return count }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
