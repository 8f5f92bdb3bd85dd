import Foundation
import MariaDBClient
import Tenanted
import TenantedMySQL
import TenantedTestSupport
import Testing

/// `MySQLMigrator`, the plain-SQL schema of apps without an ORM, against the real server.
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MySQLMigratorTests {
    static let migrations = [
        SQLMigration(name: "create_notes", statements: ["CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, title TEXT NOT NULL)"], revert: ["DROP TABLE notes"]),
        SQLMigration(name: "add_body", statements: ["ALTER TABLE notes ADD COLUMN body TEXT"], revert: ["ALTER TABLE notes DROP COLUMN body"]),
    ]

    private func withStores(_ body: (MySQLTestStores) async throws -> Void) async throws {
        let stores = MySQLTestStores()
        try await withTeardown { try await body(stores) } teardown: { await stores.cleanUp() }
    }

    /// The columns of `notes` in the current tenant's database (none when the table is missing).
    private func columns(_ tenancy: Tenancy) async throws -> [String] {
        try await tenancy.currentPool(as: MySQLTenantPool.self).withConnection { connection in
            try await connection.query(
                "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'notes' ORDER BY ordinal_position"
            ).rows.compactMap { $0["name"]?.string }
        }
    }

    @Test("a create applies every migration once, in order; status, rollback of the last batch and migrate again")
    func migrateStatusRollback() async throws {
        try await withStores { stores in
            let tenancy = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator(Self.migrations), logger: .silent)
            let acme = try TenantID("acme")
            try await tenancy.createTenant(acme)
            try await tenancy.withTenant(acme) { () async throws in
                #expect(try await columns(tenancy) == ["id", "title", "body"])
                let inserted = try await tenancy.currentPool(as: MySQLTenantPool.self).withConnection {
                    try await $0.query("INSERT INTO notes (id, title, body) VALUES (?, ?, ?)", [.text("1"), .text("hello"), .text("b")]).affectedRows
                }
                #expect(inserted == 1)
            }
            let status = try await tenancy.migrationStatus(acme)
            #expect(status.applied == ["create_notes", "add_body"] && status.pending.isEmpty)
            #expect(try await tenancy.migrate(acme) == [], "nothing twice")

            #expect(try await tenancy.rollback(acme) == ["add_body", "create_notes"], "one batch: both, newest first")
            #expect(try await tenancy.migrationStatus(acme).pending == ["create_notes", "add_body"])
            #expect(try await tenancy.migrate(acme) == ["create_notes", "add_body"])
            try await tenancy.withTenant(acme) { () async throws in
                #expect(try await columns(tenancy) == ["id", "title", "body"], "the table was dropped and made again: no row left")
                let rows = try await tenancy.currentPool(as: MySQLTenantPool.self).withConnection { try await $0.query("SELECT id FROM notes").rows.count }
                #expect(rows == 0)
            }
            await tenancy.shutdown()
        }
    }

    @Test("a failing migration is not recorded and names the tenant; the ones before it stay applied")
    func failingMigrationIsNotRecorded() async throws {
        try await withStores { stores in
            let broken = Self.migrations + [SQLMigration(name: "broken", statements: ["ALTER TABLE nowhere ADD COLUMN x INT"], revert: [])]
            let tenancy = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator(Self.migrations), logger: .silent)
            let acme = try TenantID("acme")
            try await tenancy.createTenant(acme)
            await tenancy.shutdown()

            let later = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator(broken), logger: .silent)
            do {
                _ = try await later.migrate(acme)
                Issue.record("the broken migration must fail")
            } catch let error as TenantedError {
                #expect(error.code == .migrationFailed && error.tenant == acme, "\(error)")
                #expect(error.description.contains("broken") && error.description.contains("acme"), "\(error)")
            }
            let status = try await later.migrationStatus(acme)
            #expect(status.applied == ["create_notes", "add_body"] && status.pending == ["broken"])
            await later.shutdown()
        }
    }

    @Test("two processes migrating one tenant at once apply each migration exactly once")
    func concurrentMigrationsApplyOnce() async throws {
        try await withStores { stores in
            let creator = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator([]), logger: .silent)
            let acme = try TenantID("acme")
            try await creator.createTenant(acme)
            await creator.shutdown()
            let one = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator(Self.migrations), logger: .silent)
            let two = try Tenancy(store: stores.makeStore(), migrator: try MySQLMigrator(Self.migrations), logger: .silent)
            async let first = one.migrate(acme)
            async let second = two.migrate(acme)
            let applied = try await [first, second]
            #expect(applied.flatMap { $0 }.sorted() == ["add_body", "create_notes"], "each once, by one of them: \(applied)")
            try await one.withTenant(acme) { () async throws in #expect(try await columns(one) == ["id", "title", "body"]) }
            await one.shutdown()
            await two.shutdown()
        }
    }

    @Test("an empty or duplicate migration name is refused at configuration")
    func badMigrationListsAreRefused() {
        #expect(throws: TenantedError.self) { try MySQLMigrator([SQLMigration(name: "", statements: [])]) }
        #expect(throws: TenantedError.self) { try MySQLMigrator(Self.migrations + [Self.migrations[0]]) }
    }
}
