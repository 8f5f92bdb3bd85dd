/// Runs a tenant's schema migrations; the Fluent layer provides one, and any other layer can.
///
/// ``Tenancy`` uses it when it creates a tenant, when it opens a tenant's pool (to detect a stale
/// schema) and in ``Tenancy/migrateAll(maximumConcurrency:progress:)``.
public protocol TenantMigrator<Pool>: Sendable {
    /// The store's pool type.
    associatedtype Pool: Sendable

    /// The names of the registered migrations that `pool`'s database has not applied, in order.
    ///
    /// Must be cheap: it runs every time a tenant's pool opens. Read the migration log only.
    func pendingMigrations(on pool: Pool, tenant: TenantID) async throws -> [String]

    /// Applies every pending migration and returns the names applied, in order (empty when current).
    func migrate(_ pool: Pool, tenant: TenantID) async throws -> [String]
}
