/// Runs a tenant's schema migrations; the Fluent layer provides one, and any other layer can.
///
/// ``Tenancy`` uses it when it creates a tenant, when it opens a tenant's pool (to detect a stale
/// schema), in ``Tenancy/migrateAll(maximumConcurrency:progress:)``, ``Tenancy/rollback(_:)`` and
/// ``Tenancy/migrationStatus(_:)``.
public protocol TenantMigrator<Pool>: Sendable {
    /// The store's pool type.
    associatedtype Pool: Sendable

    /// The names of the registered migrations that `pool`'s database has not applied, in order.
    ///
    /// Must be cheap: it runs when a tenant's pool opens (every time, unless the store's
    /// ``TenantStore/migrationStamp(of:)`` shows the tenant unchanged since an open that found
    /// nothing pending). Read the migration log only.
    func pendingMigrations(on pool: Pool, tenant: TenantID) async throws -> [String]

    /// The names of the migrations `pool`'s database has applied, oldest first.
    func appliedMigrations(on pool: Pool, tenant: TenantID) async throws -> [String]

    /// Applies every pending migration and returns the names applied, in order (empty when current).
    func migrate(_ pool: Pool, tenant: TenantID) async throws -> [String]

    /// Reverts the most recently applied batch and returns the names reverted, newest first (empty
    /// when nothing is applied).
    ///
    /// The default implementation throws ``TenantedError/Code/invalidConfiguration``: a migrator
    /// without down steps cannot roll back.
    func revertLastBatch(_ pool: Pool, tenant: TenantID) async throws -> [String]

    /// The names of every registered migration, in order, or `nil` when the migrator cannot list
    /// them up front.
    ///
    /// With the list, ``Tenancy`` creates tenants from a migrated template (made once per list, and
    /// remade when it changes) and refuses backups whose migrations are ahead of the app. The
    /// default is `nil`: every create runs the migrations.
    var registeredMigrations: [String]? { get }
}

extension TenantMigrator {
    public var registeredMigrations: [String]? { nil }

    public func revertLastBatch(_ pool: Pool, tenant: TenantID) async throws -> [String] {
        throw TenantedError(.invalidConfiguration, "\(Self.self) cannot roll back: its migrations have no down steps")
    }
}
