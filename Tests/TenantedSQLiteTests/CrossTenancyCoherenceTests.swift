import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

/// Two tenancies over one storage root stand for two processes: what one does to a tenant, the
/// other sees before its next use of the tenant. (The same scenarios run with real processes of the
/// demos in `TenantedDemoTests/CrossProcessTests`.)
@Suite("SQLite: every tenancy on a storage root sees every tenant change")
struct CrossTenancyCoherenceTests {
    let directory: TemporaryDirectory
    let acme: TenantID

    init() throws {
        directory = try TemporaryDirectory()
        acme = try TenantID("acme")
    }

    /// Two tenancies over the directory's storage root: a server and the `tenants` command.
    private func withServerAndCommand(busyTimeout: Duration? = nil, _ body: (Tenancy, Tenancy) async throws -> Void) async throws {
        try await directory.withTenancy(busyTimeout: busyTimeout) { server async throws in
            try await directory.withTenancy(busyTimeout: busyTimeout) { command async throws in try await body(server, command) }
        }
    }

    private func insert(_ body: String, in tenancy: Tenancy) async throws {
        try await tenancy.withTenant(acme) {
            try await currentPool().write { _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text(body)]) }
        }
    }

    private func notes(in tenancy: Tenancy) async throws -> [String] {
        try await tenancy.withTenant(acme) {
            try await currentPool().read { try await $0.strings("SELECT body FROM notes ORDER BY id") }
        }
    }

    @Test("a tenant destroyed by another tenancy is tenantNotFound on the next scope, not its old data")
    func destroyedElsewhere() async throws {
        try await withServerAndCommand { server, command in
            try await server.createTenant(acme)
            try await insert("old customer", in: server)
            #expect(try await notes(in: server) == ["old customer"])
            #expect(server.pools.openCount == 1, "the server's pool is warm")

            try await command.destroyTenant(acme)

            let error = await #expect(throws: TenantedError.self) { try await notes(in: server) }
            #expect(error?.code == .tenantNotFound)
            let write = await #expect(throws: TenantedError.self) { try await insert("into the void", in: server) }
            #expect(write?.code == .tenantNotFound)
            #expect(server.pools.openCount == 0, "the stale pool was closed")
            #expect(!directory.exists("storage/tenants/acme/main.sqlite3"), "no write re-created the file")
        }
    }

    @Test("a tenant destroyed and re-created by another tenancy serves the new, empty database; acknowledged writes survive a restart")
    func recreatedElsewhere() async throws {
        try await withServerAndCommand { server, command in
            try await server.createTenant(acme)
            try await insert("old customer", in: server)

            try await command.destroyTenant(acme)
            try await command.createTenant(acme)

            #expect(try await notes(in: server) == [], "the new customer sees none of the old notes")
            try await insert("new customer", in: server)
            #expect(try await notes(in: command) == ["new customer"], "the other tenancy sees the acknowledged write")
        }
        // A restart: a fresh tenancy reads the files.
        try await directory.withTenancy { restarted async throws in
            #expect(try await notes(in: restarted) == ["new customer"])
        }
    }

    @Test("a scope that leased before another tenancy destroyed the tenant has its later writes refused, never acknowledged")
    func leasedScopeAcrossDestroy() async throws {
        try await withServerAndCommand { server, command in
            try await server.createTenant(acme)
            let gate = Gate()
            let released = Gate()
            let scope = Task {
                try await server.withTenant(acme) {
                    let pool = try currentPool()
                    try await pool.write { _ = try await $0.query("INSERT INTO notes (body) VALUES ('before')") }
                    gate.open()
                    await released.wait()
                    return try await pool.write { _ = try await $0.query("INSERT INTO notes (body) VALUES ('after')") }
                }
            }
            await gate.wait()
            try await command.destroyTenant(acme)
            try await command.createTenant(acme)
            released.open()
            let error = await #expect(throws: TenantedError.self) { try await scope.value }
            #expect(error?.code == .tenantNotFound)
            #expect(try await notes(in: command) == [], "neither write reached the new tenant")
        }
    }

    @Test("a destroy waits for a write in progress in another tenancy: the write is acknowledged in the old database, then the tenant is gone")
    func destroyWaitsForWrite() async throws {
        // A destroy waits for writes up to the busy timeout; this test is about the order, not the
        // speed, so the wait is long enough for a loaded machine (CI once needed more than 5 s).
        try await withServerAndCommand(busyTimeout: .seconds(60)) { server, command in
            try await server.createTenant(acme)
            let writing = Gate()
            let finish = Gate()
            let write = Task {
                try await server.withTenant(acme) {
                    try await currentPool().write { connection in
                        _ = try await connection.query("INSERT INTO notes (body) VALUES ('in flight')")
                        writing.open()
                        await finish.wait()
                    }
                }
            }
            await writing.wait()
            let destroy = Task { try await command.destroyTenant(acme) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await command.tenantExists(acme), "the destroy waits for the write")
            finish.open()
            try await write.value  // acknowledged
            try await destroy.value
            #expect(try await !command.tenantExists(acme))
        }
    }

    @Test("the warm lease path checks the file once per scope and keeps the pool while it is current")
    func warmPathKeepsPool() async throws {
        try await directory.withTenancy { server async throws in
            try await server.createTenant(acme)
            for index in 0..<50 { try await insert("note \(index)", in: server) }
            #expect(try await notes(in: server).count == 50)
            #expect(server.pools.openCount == 1)
        }
    }

    @Test("a destroy in the same tenancy waits for a running migrate of the tenant, and no migrate starts while it runs")
    func destroyWaitsForMigrate() async throws {
        let started = Gate()
        let finish = Gate()
        let paused = PausingMigrator(base: .extended, started: started, finish: finish)
        try await directory.withTenancy(migrator: .base) { creator async throws in
            try await creator.createTenant(acme)
        }
        let tenancy = try Tenancy(store: try directory.store(), migrator: paused, logger: .silent)
        try await withTeardown {
            let migrate = Task { try await tenancy.migrate(acme) }
            await started.wait()
            let destroyed = Locked(false)
            let destroy = Task {
                try await tenancy.destroyTenant(acme)
                destroyed.withLock { $0 = true }
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(!destroyed.value, "the destroy waits for the migration")
            finish.open()
            #expect(try await migrate.value == ["003_note_tags"], "the migration ran to its end")
            try await destroy.value
            #expect(try await !tenancy.tenantExists(acme))
            await expectTenantedError(.tenantNotFound) { _ = try await tenancy.migrate(acme) }
        } teardown: {
            await tenancy.shutdown()
        }
    }
}

/// A migrator that pauses inside `migrate` until told to go on.
private struct PausingMigrator: TenantMigrator {
    let base: SQLiteMigrator
    let started: Gate
    let finish: Gate

    func pendingMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await base.pendingMigrations(on: pool, tenant: tenant)
    }

    func appliedMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await base.appliedMigrations(on: pool, tenant: tenant)
    }

    func migrate(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        started.open()
        await finish.wait()
        return try await base.migrate(pool, tenant: tenant)
    }
}
