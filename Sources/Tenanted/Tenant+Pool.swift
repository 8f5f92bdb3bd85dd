extension Tenant {
    /// The current tenant's open pool, typed, from the lease of the enclosing
    /// ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``: no lookup, no lock.
    ///
    /// This is what a web framework's request context hands to handlers (TenantedHummingbird's
    /// `context.tenantPool(as:)`), which reach the pool through the task's lease, not through a
    /// ``Tenancy`` (``Tenancy/currentPool(as:)`` also checks that the lease is that tenancy's).
    ///
    /// ```swift
    /// let pool = try Tenant.currentPool(as: SQLitePool.self)
    /// ```
    ///
    /// - Throws: ``TenantedError/Code/noTenant`` outside a tenant scope, in a scope that holds no
    ///   lease (entered with the free ``withTenant(_:prohibitingSwitches:isolation:_:)``), when the lease
    ///   has ended (a `Task {}` that outlived its scope); ``TenantedError/Code/misuse`` when the pool
    ///   is not a `Pool` (the tenancy runs on another store).
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
                .misuse,
                "Tenant.currentPool(as: \(Pool.self).self): tenant '\(tenant)' is served by a \(Swift.type(of: lease.pool))",
                tenant: tenant
            )
        }
        return pool
    }
}
