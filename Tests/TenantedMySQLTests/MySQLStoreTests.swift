import FluentKit
import Foundation
import MariaDBClient
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentMySQL
import TenantedMySQL
import TenantedTestSupport
import Testing

/// Configuration errors: clear messages, never the URL or password.
struct MySQLStoreConfigurationTests {
    @Test(arguments: ["", "Tenant_", "tenant-", "t e", "a`b", String(repeating: "p", count: 33)])
    func refusesBadPrefixes(prefix: String) throws {
        let error = #expect(throws: TenantedError.self) {
            try MySQLStore(url: "mysql://u:secretpw@127.0.0.1:1/db", prefix: prefix)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error.map { !$0.description.contains("secretpw") } ?? false)
    }

    @Test func refusesACatalogInsideThePrefix() throws {
        var configuration = try MySQLStore.Configuration(url: "mysql://u@127.0.0.1/db", prefix: "app_")
        configuration.catalogDatabase = "app_catalog"
        let error = #expect(throws: TenantedError.self) { try MySQLStore(configuration: configuration) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func refusesABadURLWithoutRepeatingIt() {
        let error = #expect(throws: TenantedError.self) { try MySQLStore(url: "mysql://u:secretpw@host/db?ssl-mode=maybe") }
        #expect(error?.code == .invalidConfiguration)
        #expect(error.map { !$0.description.contains("secretpw") && !$0.description.contains("host/db") } ?? false)
    }

    @Test func namesLongerThanMySQLAllowsAreBadTenantNames() throws {
        let store = try MySQLStore(url: "mysql://u@127.0.0.1/db", prefix: "tenant_")
        #expect(try store.databaseName(of: TenantID(String(repeating: "a", count: 57))) == "tenant_" + String(repeating: "a", count: 57))
        let error = #expect(throws: TenantedError.self) { try store.databaseName(of: TenantID(String(repeating: "a", count: 58))) }
        #expect(error?.code == .badTenantName)
    }
}

/// The store against the real server: what another "process" (a second store over the same
/// catalog and prefix) sees.
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MySQLStoreCoherenceTests {
    private func withStores(_ body: (MySQLTestStores) async throws -> Void) async throws {
        let stores = MySQLTestStores()
        try await withTeardown { try await body(stores) } teardown: { await stores.cleanUp() }
    }

    private func items(_ stores: MySQLTestStores) throws -> ItemsTenancy {
        try ItemsTenancy(store: stores.makeStore())
    }

    @Test func anotherProcessDestroyIsSeenBeforeTheNextUse() async throws {
        try await withStores { stores in
            let first = try items(stores), second = try items(stores)
            let tenant = try TenantID("shared")
            try await first.tenancy.createTenant(tenant)
            try await first.insert(1, into: tenant)
            #expect(try await second.values(of: tenant) == [1])

            try await first.tenancy.destroyTenant(tenant)
            await expectTenantedError(.tenantNotFound) { _ = try await second.values(of: tenant) }

            // Re-created empty by the first: the second's next use reads the new, empty tenant.
            try await first.tenancy.createTenant(tenant)
            #expect(try await second.values(of: tenant) == [])
            try await second.insert(2, into: tenant)
            #expect(try await first.values(of: tenant) == [2])
            await first.shutdown()
            await second.shutdown()
        }
    }

    @Test("a suspension by another process is seen before the next scope; resume serves it again; backups are refused clearly")
    func suspendAndResume() async throws {
        try await withStores { stores in
            let first = try items(stores), second = try items(stores)
            let acme = try TenantID("acme"), globex = try TenantID("globex")
            try await first.tenancy.createTenant(acme)
            try await first.tenancy.createTenant(globex)
            try await first.insert(1, into: acme)
            #expect(try await second.values(of: acme) == [1], "the second process has a warm pool")

            try await first.tenancy.suspend(acme, reason: "audit")
            let error = await #expect(throws: TenantedError.self) { _ = try await second.values(of: acme) }
            #expect(error?.code == .tenantSuspended)
            #expect(error?.description.contains("audit") == false, "the reason never reaches clients")
            #expect(try await second.values(of: globex) == [], "other tenants are served")
            #expect(try await second.tenancy.suspension(of: acme) == TenantSuspension(reason: "audit"))
            #expect(try await second.tenancy.migrationStatus(acme).pending.isEmpty, "status works while suspended")
            #expect(try await second.tenancy.tenants() == [acme, globex], "a suspended tenant is still listed")

            try await second.tenancy.resume(acme)
            #expect(try await first.values(of: acme) == [1])
            #expect(try await second.values(of: acme) == [1])
            #expect(try await first.tenancy.suspension(of: acme) == nil)
            try await first.tenancy.resume(acme)  // not suspended: nothing changes

            let nobody = try TenantID("nobody")
            await expectTenantedError(.tenantNotFound) { try await first.tenancy.suspend(nobody) }
            await expectTenantedError(.tenantNotFound) { try await first.tenancy.resume(nobody) }
            // Not implemented on this store: refused with a clear error, nothing written.
            let file = FileManager.default.temporaryDirectory.path + "/mysql-\(UUID().uuidString).backup"
            let refused = await #expect(throws: TenantedError.self) { try await first.tenancy.backup(acme, to: file) }
            #expect(refused?.code == .invalidConfiguration)
            #expect(!FileManager.default.fileExists(atPath: file))
            await first.shutdown()
            await second.shutdown()
        }
    }

    @Test func aCrashedCreateIsInvisibleAndRemovedByTheNextCreate() async throws {
        try await withStores { stores in
            let tenancy = try items(stores)
            let tenant = try TenantID("halfway")
            // A create whose preparation fails leaves nothing behind.
            let failing = try Tenancy(store: stores.makeStore(), migrations: TenantMigrations(), seed: { _, _ in
                throw TenantedError(.storeFailure, "seed fails on purpose")
            }, logger: .silent)
            await #expect(throws: (any Error).self) { try await failing.createTenant(tenant) }
            #expect(try await !tenancy.tenancy.tenantExists(tenant))
            #expect(try await tenancy.tenancy.tenants() == [])
            // A leftover database of the name without a ready catalog row (a crash mid-create).
            let configuration = try MySQLTestServer.configuration().with(database: nil)
            let connection = try await MariaDBConnection.connect(configuration: configuration)
            try await connection.query("CREATE DATABASE `\(stores.prefix)halfway`")
            await connection.close()
            #expect(try await !tenancy.tenancy.tenantExists(tenant))
            #expect(try await tenancy.tenancy.tenants() == [])
            try await tenancy.tenancy.createTenant(tenant)
            #expect(try await tenancy.values(of: tenant) == [])
            await failing.shutdown()
            await tenancy.shutdown()
        }
    }
}

/// A tenancy whose tenants have one table, `items (id, value)`, reached through Fluent's routing
/// database as an app would.
final class ItemsTenancy: Sendable {
    let tenancy: Tenancy
    let store: MySQLStore
    let databases: Databases

    init(store: MySQLStore) throws {
        self.store = store
        let migrations = TenantMigrations()
        migrations.add(CreateItems())
        tenancy = try Tenancy(store: store, migrations: migrations, logger: .silent)
        databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    }

    func db() -> any SQLDatabase {
        databases.database(logger: .silent, on: store.eventLoopGroup.any()) as! any SQLDatabase
    }

    func insert(_ value: Int, into tenant: TenantID) async throws {
        try await tenancy.withTenant(tenant) {
            try await db().raw("INSERT INTO items (value) VALUES (\(bind: value))").run()
        }
    }

    func values(of tenant: TenantID) async throws -> [Int] {
        try await tenancy.withTenant(tenant) {
            try await db().raw("SELECT value FROM items ORDER BY id").all().map { try $0.decode(column: "value", as: Int.self) }
        }
    }

    func shutdown() async {
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}

struct CreateItems: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("items")
            .field("id", .int64, .identifier(auto: true))
            .field("value", .int, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("items").delete()
    }
}
