import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

@Suite("Tenancy on the SQLite store: tenant lifecycle and migrations")
struct TenancyOnSQLiteTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("a created tenant is migrated, and its scope sees the tables through its own pool")
    func createMigratesAndScopes() async throws {
        let delegate = RecordingDelegate()
        try await directory.withTenancy(delegate: delegate) { tenancy async throws in
            let acme = try TenantID("acme")
            #expect(try await tenancy.createTenant(acme))
            #expect(try await tenancy.tenantExists(acme))
            #expect(try await tenancy.tenants() == [acme])

            let (current, tables, applied) = try await tenancy.withTenant(acme) {
                let pool = try currentPool()
                #expect(pool.tenant == acme)
                return (
                    Tenant.current,
                    try await pool.read { try await $0.strings("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") },
                    try await pool.read { try await $0.strings("SELECT name FROM _tenanted_migrations ORDER BY name") }
                )
            }
            #expect(current == acme)
            #expect(tables == ["_tenanted_migrations", "notes", "tags"])
            #expect(applied == ["001_notes", "002_tags"])
            #expect(Tenant.current == nil)
            #expect(delegate.events.prefix(2) == [.migrated(acme, ["001_notes", "002_tags"]), .created(acme)])
        }
    }

    @Test("a tenant whose schema lacks a registered migration is refused with pendingMigrations")
    func pendingMigrations() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy(migrator: .base) { tenancy async throws in
            try await tenancy.createTenant(acme)
        }
        try await directory.withTenancy(migrator: .extended) { tenancy async throws in
            let error = await #expect(throws: TenantedError.self) {
                try await tenancy.withTenant(acme) { Issue.record("the scope must not run") }
            }
            #expect(error?.code == .pendingMigrations)
            #expect(error?.tenant == acme)
            #expect(error?.message.contains("'003_note_tags'") == true)
            #expect(tenancy.pools.openCount == 0)
            // Nothing was migrated behind the caller's back.
            let pool = try await tenancy.typedStore.open(acme)
            let applied = try await pool.read { try await $0.strings("SELECT name FROM _tenanted_migrations ORDER BY name") }
            try await tenancy.typedStore.close(pool)
            #expect(applied == ["001_notes", "002_tags"])
        }
    }

    @Test("a tenant without a migration log has every migration pending; a log that cannot be read is an error")
    func unreadableMigrationLog() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { _ in }
        let pool = try await store.open(acme)
        var failure: (any Error)?
        do {
            #expect(try await SQLiteMigrator.base.pendingMigrations(on: pool, tenant: acme) == ["001_notes", "002_tags"])
            // A log without its `name` column: reading it fails, and that failure must not pass for
            // "nothing applied" (which would run every migration again).
            try await pool.write { _ = try await $0.query("CREATE TABLE _tenanted_migrations (x INTEGER)") }
            await #expect(throws: (any Error).self) {
                _ = try await SQLiteMigrator.base.pendingMigrations(on: pool, tenant: acme)
            }
        } catch {
            failure = error
        }
        await store.close(pool)
        if let failure { throw failure }
    }

    @Test("with autoMigrate, opening a stale tenant applies its pending migrations")
    func autoMigrate() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy(migrator: .base) { tenancy async throws in
            try await tenancy.createTenant(acme)
        }
        let delegate = RecordingDelegate()
        try await directory.withTenancy(.init(autoMigrate: true), migrator: .extended, delegate: delegate) { tenancy async throws in
            let columns = try await tenancy.withTenant(acme) {
                try await currentPool().read { try await $0.strings("SELECT name FROM pragma_table_info('notes') ORDER BY cid") }
            }
            #expect(columns == ["id", "body", "tag_id"])
            #expect(delegate.events.contains(.migrated(acme, ["003_note_tags"])))
        }
        try await directory.withTenancy(migrator: .extended) { tenancy async throws in
            try await tenancy.withTenant(acme) {}
        }
    }

    @Test("the seed runs after the migrations, inside the new tenant's scope, before it is visible")
    func seedRunsInTenantScope() async throws {
        let acme = try TenantID("acme")
        let seen = Locked<[String]>([])
        let seed: TenantSeed<SQLitePool> = { tenant, pool in
            #expect(tenant == acme)
            #expect(Tenant.current == acme)
            #expect(Tenant.prohibitsSwitching)
            #expect((Tenant.lease?.pool as? SQLitePool) === pool)
            try await pool.write { _ = try await $0.query("INSERT INTO notes (id, body) VALUES (1, 'welcome')") }
            seen.append("seeded \(Tenant.current?.rawValue ?? "nobody")")
        }
        try await directory.withTenancy(seed: seed) { tenancy async throws in
            try await tenancy.createTenant(acme)
            #expect(seen.value == ["seeded acme"])
            let body = try await tenancy.withTenant(acme) {
                try await currentPool().read { try await $0.scalar("SELECT body FROM notes WHERE id = 1")?.string }
            }
            #expect(body == "welcome")
        }
    }

    @Test("inside the seed, the tenant is not yet visible")
    func seedSeesTenantHidden() async throws {
        let acme = try TenantID("acme")
        let store = try directory.store()
        let visible = Locked<[Bool]>([])
        let seed: TenantSeed<SQLitePool> = { tenant, _ in
            visible.append(try await store.exists(tenant))
            visible.append(try await store.tenants().contains(tenant))
        }
        try await directory.withTenancy(seed: seed) { tenancy async throws in
            try await tenancy.createTenant(acme)
            #expect(visible.value == [false, false])
            #expect(try await tenancy.tenantExists(acme))
        }
    }

    @Test("a seed that throws undoes the create and its error reaches the caller")
    func failingSeed() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy(seed: { _, _ in throw PrepareFailure() }) { tenancy async throws in
            await #expect(throws: PrepareFailure.self) { try await tenancy.createTenant(acme) }
            #expect(try await tenancy.tenantExists(acme) == false)
            #expect(directory.tenantContents().isSubset(of: ["storage/", "storage/tenants/"]))
        }
    }

    @Test("a migration failing halfway fails the create with migrationFailed and leaves no trace")
    func failingMigration() async throws {
        let acme = try TenantID("acme")
        let broken = SQLMigrator(valid: [
            .init(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"]),
            .init(name: "002_broken", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY)", "CREATE TABLE oops ("]),
        ])
        let seeded = Locked<[TenantID]>([])
        let delegate = RecordingDelegate()
        try await directory.withTenancy(migrator: broken, seed: { tenant, _ in seeded.append(tenant) }, delegate: delegate) { tenancy async throws in
            let error = await #expect(throws: TenantedError.self) { try await tenancy.createTenant(acme) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.tenant == acme)
            #expect(error?.underlying is SQLiteError)
            #expect(seeded.value == [])
            #expect(try await tenancy.tenantExists(acme) == false)
            #expect(try await tenancy.tenants() == [])
            #expect(directory.tenantContents().isSubset(of: ["storage/", "storage/tenants/"]))
            #expect(!delegate.events.contains(.created(acme)))
            let scope = await #expect(throws: TenantedError.self) { try await tenancy.withTenant(acme) {} }
            #expect(scope?.code == .tenantNotFound)
        }
        // The name is free for a working migrator.
        try await directory.withTenancy(migrator: .base) { tenancy async throws in
            #expect(try await tenancy.createTenant(acme))
        }
    }

    @Test("creating an existing tenant throws tenantExists, or returns false with ifNotExists")
    func createExisting() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy { tenancy async throws in
            #expect(try await tenancy.createTenant(acme, ifNotExists: true))
            try await tenancy.withTenant(acme) {
                try await currentPool().write { _ = try await $0.query("INSERT INTO notes (id, body) VALUES (1, 'kept')") }
            }
            #expect(try await tenancy.createTenant(acme, ifNotExists: true) == false)
            let error = await #expect(throws: TenantedError.self) { try await tenancy.createTenant(acme) }
            #expect(error?.code == .tenantExists)
            let body = try await tenancy.withTenant(acme) {
                try await currentPool().read { try await $0.scalar("SELECT body FROM notes WHERE id = 1")?.string }
            }
            #expect(body == "kept")
        }
    }

    @Test("a scope on a tenant that does not exist throws tenantNotFound and creates nothing")
    func scopeOnMissingTenant() async throws {
        try await directory.withTenancy { tenancy async throws in
            let error = await #expect(throws: TenantedError.self) {
                try await tenancy.withTenant(try TenantID("ghost")) { Issue.record("the scope must not run") }
            }
            #expect(error?.code == .tenantNotFound)
            #expect(directory.contents() == [])
            #expect(tenancy.pools.openCount == 0)
        }
    }

    @Test("destroying a tenant waits for its running scope, whose writes succeed, then removes it")
    func destroyWaitsForScope() async throws {
        let acme = try TenantID("acme")
        let delegate = RecordingDelegate()
        try await directory.withTenancy(delegate: delegate) { tenancy async throws in
            try await tenancy.createTenant(acme)
            let log = Locked<[String]>([])
            let outcome = try await withGuard("destroy racing a scope") {
                let inScope = Gate()
                async let scope = tenancy.withTenant(acme) {
                    let pool = try currentPool()
                    try await pool.write { _ = try await $0.query("INSERT INTO notes (id, body) VALUES (1, 'before')") }
                    inScope.open()
                    // Once destroy has started, new leases on the tenant are refused; wait for that.
                    while true {
                        do {
                            try await tenancy.pools.withPool(acme) { _ in }
                        } catch let error as TenantedError where error.code == .tenantNotFound {
                            break
                        }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await pool.write { _ = try await $0.query("INSERT INTO notes (id, body) VALUES (2, 'during')") }
                    log.append("scope finished")
                    return try await pool.read { try await $0.scalar("SELECT count(*) FROM notes")?.integer }
                }
                await inScope.wait()
                try await tenancy.destroyTenant(acme)
                log.append("destroyed")
                return try await scope
            }
            let count = try #require(outcome)
            #expect(count == 2)
            #expect(log.value == ["scope finished", "destroyed"])
            #expect(try await tenancy.tenantExists(acme) == false)
            #expect(try await tenancy.tenants() == [])
            #expect(directory.tenantContents() == ["storage/", "storage/tenants/"])
            #expect(delegate.events.contains(.closed(acme, .closed)))
            #expect(delegate.events.last == .destroyed(acme))
            let error = await #expect(throws: TenantedError.self) { try await tenancy.withTenant(acme) {} }
            #expect(error?.code == .tenantNotFound)
        }
    }

    @Test("destroying a tenant that does not exist throws tenantNotFound")
    func destroyMissing() async throws {
        try await directory.withTenancy { tenancy async throws in
            let error = await #expect(throws: TenantedError.self) { try await tenancy.destroyTenant(try TenantID("ghost")) }
            #expect(error?.code == .tenantNotFound)
        }
    }

    @Test("two tenants' data never mix, even with the same table and the same ids")
    func isolation() async throws {
        let acme = try TenantID("acme")
        let globex = try TenantID("globex")
        try await directory.withTenancy { tenancy async throws in
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            for tenant in [acme, globex] {
                try await tenancy.withTenant(tenant) {
                    try await currentPool().write { connection in
                        for id in 1...3 {
                            _ = try await connection.query(
                                "INSERT INTO notes (id, body) VALUES (?, ?)", [.integer(id), .text("\(tenant)-\(id)")]
                            )
                        }
                    }
                }
            }
            try await tenancy.withTenant(acme) {
                try await currentPool().write { _ = try await $0.query("DELETE FROM notes WHERE id = 2") }
            }
            let acmeNotes = try await tenancy.withTenant(acme) {
                try await currentPool().read { try await $0.strings("SELECT body FROM notes ORDER BY id") }
            }
            let globexNotes = try await tenancy.withTenant(globex) {
                try await currentPool().read { try await $0.strings("SELECT body FROM notes ORDER BY id") }
            }
            #expect(acmeNotes == ["acme-1", "acme-3"])
            #expect(globexNotes == ["globex-1", "globex-2", "globex-3"])
        }
    }
}
