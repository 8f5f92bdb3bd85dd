extension Tenant {
    /// The current tenant's open pool, typed, from the lease of the enclosing
    /// ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``: no lookup, no lock.
    ///
    /// This is what a web framework's request context hands to handlers (TenantedHummingbird's
    /// `context.tenantPool(as:)`), where the app holds no typed ``Tenancy``.
    ///
    /// ```swift
    /// let pool = try Tenant.currentPool(as: SQLitePool.self)
    /// ```
    ///
    /// - Throws: ``TenantedError/Code/noTenant`` outside a tenant scope, in a scope that holds no
    ///   lease (entered with the free ``withTenant(_:prohibitingSwitches:isolation:_:)``), when the lease
    ///   has ended (a `Task {}` that outlived its scope), or when the pool is not a `Pool` (the tenancy
    ///   runs on another store).
    public static func currentPool<Pool>(as type: Pool.Type = Pool.self) throws(TenantedError) -> Pool {
        let tenant = try require()
        guard let lease, !lease.isReleased, lease.tenant == tenant else {
            throw TenantedError(
                .noTenant,
                "tenant '\(tenant)' is current but this scope holds no lease on its pool; enter it with tenancy.withTenant(_:_:)",
                tenant: tenant
            )
        }
        guard let pool = lease.pool as? Pool else {
            throw TenantedError(
                .noTenant,
                "tenant '\(tenant)' is served by a \(Swift.type(of: lease.pool)), not a \(Pool.self)",
                tenant: tenant
            )
        }
        return pool
    }
}
