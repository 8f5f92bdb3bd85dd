import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

@Suite("Migrating every tenant")
struct TenancyMigrateAllTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// ``SQLMigrator/base`` plus a migration that fails on any tenant that already has a `poison` table.
    static let poisoned = SQLMigrator(
        valid: SQLMigrator.base.migrations + [
            .init(name: "003_poison", statements: ["CREATE TABLE audit (id INTEGER PRIMARY KEY)", "CREATE TABLE poison (x)"])
        ]
    )

    static func names(_ names: String...) throws -> [TenantID] { try names.map(TenantID.init) }

    @Test("migrateAll applies a new migration everywhere, continues past a failing tenant, and reports each result")
    func migrateAll() async throws {
        let tenants = try Self.names("alpha", "bravo", "charlie")
        try await directory.withTenancy(migrator: .base) { tenancy in
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            try await tenancy.withTenant(tenants[1]) {
                try await tenancy.currentPool(as: SQLitePool.self).write { _ = try await $0.query("CREATE TABLE poison (x)") }
            }
        }
        try await directory.withTenancy(migrator: Self.poisoned) { tenancy in
            // The new migration is pending: opening a tenant is refused, naming it.
            let stale = await #expect(throws: TenantedError.self) { try await tenancy.withTenant(tenants[0]) {} }
            #expect(stale?.code == .pendingMigrations)
            #expect(stale?.message.contains("003_poison") == true)

            let progress = Locked<[Int]>([])
            let report = try await tenancy.migrateAll(maximumConcurrency: 2) { step in
                #expect(step.total == 3)
                progress.append(step.completed)
            }
            #expect(progress.value == [1, 2, 3])
            #expect(report.results.map(\.tenant) == tenants)
            #expect(report.migrated.map(\.tenant) == [tenants[0], tenants[2]])
            #expect(report.failures.map(\.tenant) == [tenants[1]])
            #expect(report.failures.first?.error?.code == .migrationFailed)
            #expect(!report.succeeded)
            #expect(report.exitStatus == 1)
            for result in report.migrated {
                guard case .migrated(let names) = result.outcome else { continue }
                #expect(names == ["003_poison"])
            }

            // The failing tenant stayed at its previous version: no half-applied migration.
            let bravo = try await tenancy.typedStore.open(tenants[1])
            let tables = try await bravo.read { try await $0.strings("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit'") }
            #expect(tables.isEmpty)
            #expect(try await Self.poisoned.pendingMigrations(on: bravo, tenant: tenants[1]) == ["003_poison"])
            try await tenancy.typedStore.close(bravo)

            // The migrated tenants open again.
            try await tenancy.withTenant(tenants[2]) {
                let audit = try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.strings("SELECT name FROM sqlite_master WHERE name = 'audit'") }
                #expect(audit == ["audit"])
            }

            // A second run: everyone else is current, and the failure is reported again.
            let again = try await tenancy.migrateAll()
            #expect(again.current.map(\.tenant) == [tenants[0], tenants[2]])
            #expect(again.failures.map(\.tenant) == [tenants[1]])
        }
    }

    @Test("migrateAll over current tenants changes nothing and succeeds")
    func noOp() async throws {
        let tenants = try Self.names("one", "two")
        try await directory.withTenancy { tenancy in
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            let report = try await tenancy.migrateAll()
            #expect(report.current.map(\.tenant) == tenants)
            #expect(report.succeeded)
            #expect(report.exitStatus == 0)
        }
    }

    @Test("migrate(_:) migrates one stale tenant; a missing one is tenantNotFound")
    func migrateOne() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy(migrator: .base) { tenancy in try await tenancy.createTenant(acme) }
        try await directory.withTenancy(migrator: .extended) { tenancy in
            #expect(try await tenancy.migrate(acme) == ["003_note_tags"])
            #expect(try await tenancy.migrate(acme) == [])
            try await tenancy.withTenant(acme) {}
            let missing = await #expect(throws: TenantedError.self) { try await tenancy.migrate(TenantID("ghost")) }
            #expect(missing?.code == .tenantNotFound)
        }
    }

    @Test("without a migrator, migrateAll is a configuration error")
    func noMigrator() async throws {
        try await directory.withTenancy(migrator: nil) { tenancy in
            let error = await #expect(throws: TenantedError.self) { try await tenancy.migrateAll() }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test("SQLiteMigrator refuses empty and duplicate migration names")
    func badMigrations() {
        let empty = #expect(throws: TenantedError.self) {
            try SQLiteMigrator([.init(name: "", statements: [])])
        }
        #expect(empty?.code == .invalidConfiguration)
        let duplicate = #expect(throws: TenantedError.self) {
            try SQLiteMigrator([.init(name: "a", statements: []), .init(name: "a", statements: [])])
        }
        #expect(duplicate?.code == .invalidConfiguration)
    }
}

@Suite("Scopes over every tenant")
struct TenancyScopeTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("forEachTenant runs the body in each tenant's scope, with switching prohibited, at most N at once")
    func forEachTenant() async throws {
        let tenants = try ["a1", "a2", "a3", "a4", "a5"].map(TenantID.init)
        try await directory.withTenancy { tenancy in
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            let seen = Locked<[TenantID]>([])
            let running = Locked<(now: Int, most: Int)>((0, 0))
            try await tenancy.forEachTenant(maximumConcurrency: 2) { tenant in
                running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                defer { running.withLock { $0.now -= 1 } }
                #expect(Tenant.current == tenant)
                #expect(Tenant.prohibitsSwitching)
                #expect(throws: TenantedError.self) { try withTenant(TenantID("zzz")) {} }
                let pool = try tenancy.currentPool(as: SQLitePool.self)
                try await pool.write { _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text(tenant.rawValue)]) }
                try await Task.sleep(for: .milliseconds(10))
                seen.append(tenant)
            }
            #expect(seen.value.sorted() == tenants)
            #expect(running.value.most <= 2)
            // Each tenant got exactly its own row.
            for tenant in tenants {
                let bodies = try await tenancy.withTenant(tenant) {
                    try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.strings("SELECT body FROM notes") }
                }
                #expect(bodies == [tenant.rawValue])
            }
        }
    }

    @Test("a Tenancy refuses out-of-range options with invalidConfiguration")
    func badConfiguration() throws {
        let store = try directory.store()
        let concurrency = #expect(throws: TenantedError.self) {
            try Tenancy(store: store, configuration: .init(defaultConcurrency: 0))
        }
        #expect(concurrency?.code == .invalidConfiguration)
        let pools = #expect(throws: TenantedError.self) {
            try Tenancy(store: store, configuration: .init(pools: .init(maximumOpenPools: 0)))
        }
        #expect(pools?.code == .invalidConfiguration)
        #expect(pools?.message.contains("maximumOpenPools") == true)
    }

    @Test("typed access with the wrong type is a misuse, never a crash or another tenant's pool")
    func typedAccessWithTheWrongType() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            let pool = try await tenancy.withTenant(acme) {
                let wrong = #expect(throws: TenantedError.self) { try tenancy.currentPool(as: String.self) }
                #expect(wrong?.code == .misuse)
                #expect(wrong?.message.contains("SQLitePool") == true, "the message names the pool type the store has")
                return try tenancy.currentPool(as: SQLitePool.self)
            }
            #expect(pool.tenant == acme)
            #expect(try tenancy.store(as: SQLiteStore.self).databasePath(for: acme).hasSuffix("/acme/main.sqlite3"))
            struct OtherStore: TenantStore {
                func create(_ tenant: TenantID, prepare: (Int) async throws -> Void) async throws {}
                func destroy(_ tenant: TenantID) async throws {}
                func exists(_ tenant: TenantID) async throws -> Bool { false }
                func tenants() async throws -> [TenantID] { [] }
                func open(_ tenant: TenantID) async throws -> Int { 0 }
                func close(_ pool: Int) async {}
            }
            let store = #expect(throws: TenantedError.self) { try tenancy.store(as: OtherStore.self) }
            #expect(store?.code == .misuse)
        }
    }

    @Test("currentPool is the scope's pool, and noTenant outside a scope or after the lease ended")
    func currentPool() async throws {
        let acme = try TenantID("acme")
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            let outside = #expect(throws: TenantedError.self) { try tenancy.currentPool(as: SQLitePool.self) }
            #expect(outside?.code == .noTenant)
            let nameOnly = #expect(throws: TenantedError.self) { try withTenant(acme) { try tenancy.currentPool(as: SQLitePool.self) } }
            #expect(nameOnly?.code == .noTenant, "a scope entered without this tenancy holds no lease")

            // A task that outlives its scope keeps the context, but its lease has ended:
            // currentPool refuses it, and entering the tenant again takes a fresh lease.
            let gate = Gate()
            let escaped = try await tenancy.withTenant(acme) {
                let inside = try tenancy.currentPool(as: SQLitePool.self)
                #expect(inside.tenant == acme)
                return Task {
                    await gate.wait()
                    let stale = Result { try tenancy.currentPool(as: SQLitePool.self) }
                    let fresh = try await tenancy.withTenant(acme) { try tenancy.currentPool(as: SQLitePool.self).tenant }
                    return (stale, fresh)
                }
            }
            gate.open()
            let (stale, fresh) = try await escaped.value
            #expect(throws: TenantedError.self) { try stale.get() }
            #expect(fresh == acme)
        }
    }
}
