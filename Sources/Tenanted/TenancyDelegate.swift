/// Told about the life of tenants and their pools. Every method has a no-op default.
///
/// Methods are called synchronously from Tenanted's own tasks: return quickly, and hop to your own
/// task for slow work.
public protocol TenancyDelegate: Sendable {
    /// A tenant was created (and migrated and seeded).
    func tenantCreated(_ tenant: TenantID)
    /// A tenant was destroyed.
    func tenantDestroyed(_ tenant: TenantID)
    /// Migrations were applied to a tenant.
    func tenantMigrated(_ tenant: TenantID, migrations: [String])
    /// A tenant's pool was opened.
    func poolOpened(_ tenant: TenantID)
    /// A tenant's pool was closed: evicted, idle, closed for destruction or shut down.
    func poolClosed(_ tenant: TenantID, reason: PoolCloseReason)
    /// Every pool was leased, so the registry held more pools than its capacity.
    func poolsOverflowed(openCount: Int, capacity: Int)
}

extension TenancyDelegate {
    public func tenantCreated(_ tenant: TenantID) {}
    public func tenantDestroyed(_ tenant: TenantID) {}
    public func tenantMigrated(_ tenant: TenantID, migrations: [String]) {}
    public func poolOpened(_ tenant: TenantID) {}
    public func poolClosed(_ tenant: TenantID, reason: PoolCloseReason) {}
    public func poolsOverflowed(openCount: Int, capacity: Int) {}
}

/// The default delegate: ignores everything.
public struct NoTenancyDelegate: TenancyDelegate {
    /// Creates the no-op delegate.
    public init() {}
}
