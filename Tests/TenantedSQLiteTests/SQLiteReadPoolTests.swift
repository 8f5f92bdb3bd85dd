import Foundation
import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

/// `migrate` and `migrateAll` read each tenant's migration log on a pool for reading first
/// (`SQLiteStore.openForReading`), and open a full pool only when something is pending. These
/// tests pin what that check must never do: call a tenant current that is not.
@Suite("The migration check on a pool for reading")
struct SQLiteReadPoolTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// ``SQLMigrator/base`` plus a migration that can run again harmlessly.
    static let withExtra = SQLMigrator(
        valid: SQLMigrator.base.migrations + [
            .init(name: "003_extra", statements: ["CREATE TABLE IF NOT EXISTS extra (id INTEGER PRIMARY KEY)"])
        ]
    )

    @Test("a migration undone only in another connection's write-ahead log is seen: migrateAll applies it again")
    func seesTheWriteAheadLog() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy(migrator: Self.withExtra) { tenancy in
            try await tenancy.createTenant(acme)
        }
        // Another process: its own store and pool over the same file, kept open, so its change
        // stays in the -wal file and the database file itself still records 003 as applied.
        let other = try directory.store()
        let pool = try await other.open(acme)
        try await pool.write { connection in
            _ = try await connection.query("DELETE FROM _tenanted_migrations WHERE name = '003_extra'")
        }
        let walPath = other.databasePath(for: acme) + "-wal"
        #expect(FileManager.default.fileExists(atPath: walPath))

        try await directory.withTenancy(migrator: Self.withExtra) { tenancy in
            #expect(try await tenancy.migrationStatus(acme).pending == ["003_extra"])
            let report = try await tenancy.migrateAll()
            #expect(report.current.isEmpty)
            #expect(report.migrated.map(\.tenant) == [acme])
            #expect(try await tenancy.migrate(acme) == [])
        }
        await other.close(pool)
    }

    @Test("a current tenant is reported current, and the check leaves no -wal or -shm file behind")
    func currentLeavesNoFiles() async throws {
        let names = try ["one", "two"].map(TenantID.init)
        try await directory.withTenancy { tenancy in
            for tenant in names { try await tenancy.createTenant(tenant) }
        }
        try await directory.withTenancy { tenancy in
            let report = try await tenancy.migrateAll()
            #expect(report.current.map(\.tenant) == names)
            #expect(try await tenancy.migrate(names[0]) == [])
        }
        let leftovers = directory.tenantContents().filter { $0.hasSuffix("-wal") || $0.hasSuffix("-shm") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("migrateAll still reports a suspended tenant as failed, and migrate refuses it")
    func suspendedTenant() async throws {
        let (acme, globex) = (try TenantID("acme"), try TenantID("globex"))
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            try await tenancy.suspend(acme, reason: "billing")
            let report = try await tenancy.migrateAll()
            #expect(report.failures.map(\.tenant) == [acme])
            #expect(report.current.map(\.tenant) == [globex])
            await expectTenantedError(.tenantSuspended) { try await tenancy.migrate(acme) }
        }
    }

    @Test("a pool for reading refuses a missing or suspended tenant, and refuses writes")
    func badInput() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        await expectTenantedError(.tenantNotFound) { _ = try await store.openForReading(acme) }
        try await store.create(acme) { pool in
            _ = try await SQLMigrator.base.migrate(pool, tenant: acme)
        }
        let pool = try await store.openForReading(acme)
        #expect(try await SQLMigrator.base.pendingMigrations(on: pool, tenant: acme).isEmpty)
        await expectTenantedError(.storeFailure) { try await pool.write { _ = try await $0.query("CREATE TABLE x (y)") } }
        await store.close(pool)
        let full = try await store.open(acme)
        #expect(try await full.read { try await $0.strings("SELECT name FROM sqlite_master WHERE name = 'x'") }.isEmpty)
        await store.close(full)

        try await store.suspend(acme, reason: nil)
        await expectTenantedError(.tenantSuspended) { _ = try await store.openForReading(acme) }
        try await store.resume(acme)
        try await store.destroy(acme)
        await expectTenantedError(.tenantNotFound) { _ = try await store.openForReading(acme) }
    }
}
