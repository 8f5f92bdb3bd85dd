import NIOPosix
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// An open skips the migration log of a tenant found migrated at an earlier open while the store's
/// stamp (the database file and the storage's change counter) is the same; everything that can take
/// migrations away from the database changes the stamp, in this process and in others.
@Suite("SQLite: an open skips the migration log of a tenant known migrated")
struct MigrationStampTests {
    /// The plain-SQL migrator, counting how often an open reads the migration log.
    struct CountingMigrator: TenantMigrator {
        typealias Pool = SQLitePool
        static let schema = SQLiteMigrator(valid: [
            .init(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"], revert: ["DROP TABLE notes"]),
            .init(name: "002_tags", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"], revert: ["DROP TABLE tags"]),
        ])
        let reads = Locked(0)

        func pendingMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
            reads.withLock { $0 += 1 }
            return try await Self.schema.pendingMigrations(on: pool, tenant: tenant)
        }
        func appliedMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
            try await Self.schema.appliedMigrations(on: pool, tenant: tenant)
        }
        func migrate(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
            try await Self.schema.migrate(pool, tenant: tenant)
        }
        func revertLastBatch(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
            try await Self.schema.revertLastBatch(pool, tenant: tenant)
        }
        var registeredMigrations: [String]? { Self.schema.registeredMigrations }
    }

    let directory: TemporaryDirectory
    let acme = try! TenantID("acme")
    let globex = try! TenantID("globex")

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// Runs `body` with a tenancy of one open pool at most (each use of another tenant evicts the
    /// last), on a thread pool of its own, and its migrator; always shuts it down.
    private func withTenancy(_ body: (Tenancy, CountingMigrator) async throws -> Void) async throws {
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let migrator = CountingMigrator()
        let tenancy = try Tenancy(
            store: try directory.store { $0.threadPool = threads },
            configuration: .init(pools: .init(maximumOpenPools: 1)),
            migrator: migrator,
            logger: .silent
        )
        do {
            try await body(tenancy, migrator)
        } catch {
            await tenancy.shutdown()
            throw error
        }
        await tenancy.shutdown()
    }

    /// Uses `tenant` once, then `other`, which evicts it; returns how many opens read the log.
    private func useThenEvict(_ tenant: TenantID, by other: TenantID, on tenancy: Tenancy, _ migrator: CountingMigrator) async throws -> Int {
        let before = migrator.reads.value
        try await tenancy.withTenant(tenant) {}
        try await tenancy.withTenant(other) {}
        #expect(tenancy.pools.openCount == 1)
        return migrator.reads.value - before
    }

    @Test("a tenant found migrated is not read again while nothing changed; another database in its place is")
    func unchangedTenantsAreNotReadAgain() async throws {
        try await withTenancy { tenancy, migrator in
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            // First opens read; later ones (each after an eviction: a cold open) do not.
            #expect(try await useThenEvict(acme, by: globex, on: tenancy, migrator) == 2)
            #expect(try await useThenEvict(acme, by: globex, on: tenancy, migrator) == 0)
            #expect(try await useThenEvict(acme, by: globex, on: tenancy, migrator) == 0)

            // Re-created: another file, and the counter moved.
            try await tenancy.destroyTenant(acme)
            try await tenancy.createTenant(acme)
            #expect(try await useThenEvict(acme, by: globex, on: tenancy, migrator) == 2)
            #expect(try await useThenEvict(acme, by: globex, on: tenancy, migrator) == 0)
        }
    }

    /// Who rolls the tenant back: another tenancy on the storage (standing for a `tenants rollback`
    /// process), or the serving tenancy itself.
    enum Roller: String, CaseIterable, Sendable { case anotherProcess, thisProcess }

    @Test("a rollback is seen by the next open: the tenant is refused as behind, then served once migrated", arguments: Roller.allCases)
    func aRollbackIsSeen(by roller: Roller) async throws {
        try await withTenancy { server, serverMigrator in
            try await server.createTenant(acme)
            try await server.createTenant(globex)
            _ = try await useThenEvict(acme, by: globex, on: server, serverMigrator)
            #expect(try await useThenEvict(acme, by: globex, on: server, serverMigrator) == 0)

            var reverted: [String] = []
            switch roller {
            case .anotherProcess:
                try await withTenancy { command, _ async throws in reverted = try await command.rollback(acme) }
            case .thisProcess:
                reverted = try await server.rollback(acme)
            }
            #expect(reverted == ["002_tags", "001_notes"], "the create applied both in one batch")
            let error = await #expect(throws: TenantedError.self) { try await server.withTenant(acme) {} }
            #expect(error?.code == .pendingMigrations)
            #expect(try await server.migrate(acme) == ["001_notes", "002_tags"])
            try await server.withTenant(acme) {}
        }
    }
}
