import FluentKit
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres
import TenantedTestSupport

/// A tenancy over a test store whose tenants have one table, `items (id, value)`, reached through
/// Fluent's routing database as an app would. Two of them over one catalog stand for two processes.
final class ItemsTenancy: Sendable {
    let tenancy: Tenancy
    let store: PostgresStore
    let databases: Databases

    /// `minimumConnectionsPerPool` `nil` keeps the store's default.
    init(stores: PostgresTestStores, minimumConnectionsPerPool: Int? = nil) throws {
        let migrations = TenantMigrations()
        migrations.add(CreateItems())
        store = try stores.makeStore(minimumConnectionsPerPool: minimumConnectionsPerPool)
        tenancy = try Tenancy(store: store, migrations: migrations, logger: .silent)
        databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    }

    /// Items over an existing `tenancy` (of a `PostgresStore`); its routing database is this object's.
    init(tenancy: Tenancy) throws {
        self.tenancy = tenancy
        store = try tenancy.typedStore
        databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    }

    /// Shuts the routing database down, leaving the tenancy running.
    func shutdownDatabases() async {
        await databases.shutdownAsync()
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

    /// Runs `body` with a new items tenancy over `stores`, then shuts it down and drops what the test
    /// made there, whether `body` returned or threw.
    static func with(_ stores: PostgresTestStores, _ body: (ItemsTenancy) async throws -> Void) async throws {
        let items = try ItemsTenancy(stores: stores)
        let result = await Swift.Result { try await body(items) }
        await items.shutdown()
        await stores.cleanUp()
        try result.get()
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

extension Tenancy {
    /// The tenancy's store as the `PostgresStore` every tenancy of these tests has.
    var typedStore: PostgresStore {
        get throws { try store(as: PostgresStore.self) }
    }
}
