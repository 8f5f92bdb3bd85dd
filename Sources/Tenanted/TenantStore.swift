/// Where tenant databases live: a file per tenant, a database per tenant, a schema per tenant…
///
/// A store knows nothing of Fluent or of the current tenant; ``Tenancy`` drives it. Every method
/// takes a validated ``TenantID``; a store may refuse names it cannot represent with
/// ``TenantedError/Code/badTenantName``.
public protocol TenantStore: Sendable {
    /// An open connection pool to one tenant's database.
    associatedtype Pool: Sendable

    /// Creates `tenant`'s database and runs `prepare` on it (migrations, seed) before the tenant
    /// becomes visible.
    ///
    /// Until `prepare` returns, ``exists(_:)`` is `false` and ``tenants()`` omits the tenant, in this
    /// process and in others. If anything fails — including `prepare` — every trace of the tenant is
    /// removed and the error is rethrown.
    ///
    /// - Throws: ``TenantedError/Code/tenantExists`` when the tenant exists or is being created.
    func create(_ tenant: TenantID, prepare: (Pool) async throws -> Void) async throws

    /// Deletes `tenant`'s database and everything that belongs to it.
    ///
    /// The caller closes this process's pool first (``Tenancy`` does).
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    func destroy(_ tenant: TenantID) async throws

    /// Whether `tenant` exists and is completely created.
    func exists(_ tenant: TenantID) async throws -> Bool

    /// Every completely created tenant, sorted.
    func tenants() async throws -> [TenantID]

    /// Opens a pool to an existing tenant's database. Never creates the database.
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    func open(_ tenant: TenantID) async throws -> Pool

    /// Closes a pool: waits for its borrowed connections to come back, then closes them.
    func close(_ pool: Pool) async
}
