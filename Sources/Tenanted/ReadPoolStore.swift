/// A store that opens a pool for one short read more cheaply than ``TenantStore/open(_:)``:
/// ``Tenancy/migrate(_:)`` reads the migration log on such a pool first, so that a tenant with
/// nothing pending (every tenant of a no-op ``Tenancy/migrateAll(maximumConcurrency:progress:)``)
/// costs less than a full open. Package-internal: the pool refuses writes, and only Tenanted's own
/// code decides what runs on it.
package protocol ReadPoolStore: TenantStore {
    /// A pool for reading `tenant`'s database, closed with ``TenantStore/close(_:)`` right after.
    ///
    /// It must refuse a tenant as ``TenantStore/open(_:)`` would (missing, being created or
    /// destroyed, suspended), and its reads must see every write committed before them, in any
    /// process: a migration check on it must never find a tenant current that is not.
    func openForReading(_ tenant: TenantID) async throws -> Pool
}
