public import FluentKit
import Logging
import NIOCore
import SQLKit
import Synchronization
public import Tenanted

/// Runs ``TenantMigrations`` on tenants with FluentKit's `Migrator`, bound to each tenant's database.
///
/// Pass it to `Tenancy` (or use ``Tenanted/Tenancy/init(store:migrations:configuration:seed:delegate:logger:)``).
///
/// - A batch runs inside one transaction (on SQLite `BEGIN IMMEDIATE`): a failing migration leaves
///   the tenant exactly as it was, and two processes migrating one tenant at once apply each
///   migration once (the second waits for the write lock, then finds nothing pending).
/// - The pending check reads the tenant's `_fluent_migrations` and compares names; nothing else runs.
/// - Rolling back reverts the last batch, also in one transaction.
public struct FluentTenantMigrator<Store: FluentTenantStore>: TenantMigrator {
    public typealias Pool = Store.Pool

    /// Where the tenants live.
    public let store: Store
    /// What to apply.
    public let migrations: TenantMigrations
    let logger: Logger
    let migrationLogLevel: Logger.Level

    /// Creates a migrator.
    /// - Parameters:
    ///   - store: the tenants' store.
    ///   - migrations: the tenant migrations.
    ///   - logger: the logger of the Fluent contexts migrations run in.
    ///   - migrationLogLevel: the level of Fluent's per-migration log lines. Default: `.info`.
    public init(store: Store, migrations: TenantMigrations, logger: Logger = Logger(label: "tenanted.migrations"), migrationLogLevel: Logger.Level = .info) {
        self.store = store
        self.migrations = migrations
        self.logger = logger
        self.migrationLogLevel = migrationLogLevel
    }

    public func pendingMigrations(on pool: Pool, tenant: TenantID) async throws -> [String] {
        let applied = Set(try await Self.applied(on: database(pool, tenant), store: store))
        return try registered().map(\.name).filter { !applied.contains($0) }
    }

    public func appliedMigrations(on pool: Pool, tenant: TenantID) async throws -> [String] {
        try await Self.applied(on: database(pool, tenant), store: store)
    }

    public func migrate(_ pool: Pool, tenant: TenantID) async throws -> [String] {
        let registered = try registered()
        return try await database(pool, tenant).transaction { [store, migrationLogLevel] database in
            try await Self.lock(database, tenant: tenant, store: store)
            let before = Set(try await Self.applied(on: database, store: store))
            let migrator = Self.migrator(registered, tenant: tenant, on: database, logLevel: migrationLogLevel)
            try await migrator.setupIfNeeded().get()
            try await migrator.prepareBatch().get()
            let after = Set(try await Self.applied(on: database, store: store))
            return registered.map(\.name).filter { after.contains($0) && !before.contains($0) }
        }
    }

    public func revertLastBatch(_ pool: Pool, tenant: TenantID) async throws -> [String] {
        let registered = try registered()
        return try await database(pool, tenant).transaction { [store, migrationLogLevel] database in
            try await Self.lock(database, tenant: tenant, store: store)
            let before = try await Self.applied(on: database, store: store)
            if before.isEmpty { return [] }
            try await Self.migrator(registered, tenant: tenant, on: database, logLevel: migrationLogLevel).revertLastBatch().get()
            let after = Set(try await Self.applied(on: database, store: store))
            return before.reversed().filter { !after.contains($0) }
        }
    }

    /// Every registered migration's name, in order; `nil` when two share a name (a create then
    /// runs the migrations and reports the clash).
    public var registeredMigrations: [String]? {
        try? registered().map(\.name)
    }

    /// FluentKit's `Migrator` over `database` alone (each tenant keeps its own `_fluent_migrations`),
    /// with failures that name the migration and the tenant.
    private static func migrator(
        _ migrations: [any Migration], tenant: TenantID, on database: any Database, logLevel: Logger.Level
    ) -> Migrator {
        let fluent = Migrations()
        fluent.add(migrations.map { NamedFailureMigration(base: $0, tenant: tenant) })
        return Migrator(databaseFactory: { _ in database }, migrations: fluent, on: database.eventLoop, migrationLogLevel: logLevel)
    }

    /// The registered migrations, refusing duplicate names (Fluent would skip the second silently).
    private func registered() throws(TenantedError) -> [any Migration] {
        let all = migrations.all
        var seen: Set<String> = []
        for migration in all where !seen.insert(migration.name).inserted {
            throw TenantedError(.invalidConfiguration, "two tenant migrations are named '\(migration.name)'")
        }
        return all
    }

    private func database(_ pool: Pool, _ tenant: TenantID) -> any Database {
        let context = TenantDatabaseConfiguration.context(
            for: tenant, appMiddleware: [], dialect: store.sqlDialect, logger: logger, eventLoop: store.eventLoopGroup.any()
        )
        return store.makeDatabase(for: pool, tenant: tenant, context: context)
    }

    /// Takes the store's cross-process migration lock inside the batch's transaction.
    static func lock(_ database: any Database, tenant: TenantID, store: Store) async throws {
        try await store.lockMigrations(on: sql(database), tenant: tenant)
    }

    static func sql(_ database: any Database) throws(TenantedError) -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else {
            throw TenantedError(.invalidConfiguration, "\(Store.self)'s Fluent database is not an SQLDatabase")
        }
        return sql
    }

    /// The names in the tenant's migration log, oldest batch first; empty when there is no log yet.
    static func applied(on database: any Database, store: Store) async throws -> [String] {
        let sql = try sql(database)
        // Raw SQL, not a Fluent read: it runs on the writer, which the pool's open has just opened, so
        // a cold open does not also open a reader for the check.
        guard try await store.tableExists(MigrationLog.schema, on: sql) else { return [] }
        return try await sql.raw("SELECT name FROM \(ident: MigrationLog.schema) ORDER BY batch, created_at")
            .all()
            .map { try $0.decode(column: "name", as: String.self) }
    }
}
