/// What the stores' plain-SQL migrators share — TenantedSQLite's `SQLiteMigrator`, TenantedPostgres's
/// `PostgresMigrator` and TenantedMySQL's `MySQLMigrator`: a checked list of ``SQLMigration``s, one
/// migration log per tenant, and which of the list that log says is applied.
///
/// A store's migrator reads its log (``appliedMigrationNames(on:tenant:)``) and applies and reverts
/// migrations its own way (one transaction per migration where the database allows it); the
/// pending and applied lists, in registration order, come from here, so they agree on every store.
public protocol SQLTenantMigrator: TenantMigrator {
    /// The migrations, in the order they apply.
    var migrations: [SQLMigration] { get }

    /// The names recorded in the tenant's migration log; empty when the log does not exist yet.
    ///
    /// Runs when a tenant's pool opens (see ``TenantMigrator/pendingMigrations(on:tenant:)``): read the log only.
    func appliedMigrationNames(on pool: Pool, tenant: TenantID) async throws -> Set<String>
}

extension SQLTenantMigrator {
    /// The table that records applied migrations in each tenant's database or schema.
    public static var table: String { "_tenanted_migrations" }

    /// The registered migrations the tenant's log does not list, in registration order.
    public func pendingMigrations(on pool: Pool, tenant: TenantID) async throws -> [String] {
        let applied = try await appliedMigrationNames(on: pool, tenant: tenant)
        return migrations.map(\.name).filter { !applied.contains($0) }
    }

    /// The registered migrations the tenant's log lists, in registration order.
    public func appliedMigrations(on pool: Pool, tenant: TenantID) async throws -> [String] {
        let applied = try await appliedMigrationNames(on: pool, tenant: tenant)
        return migrations.map(\.name).filter { applied.contains($0) }
    }
}
