import Logging

extension Tenancy {
    /// Whether this tenancy was given a seed.
    public var hasSeed: Bool { backend.hasSeed }

    /// Runs the seed again on an existing tenant, inside its scope (switching prohibited), as
    /// ``createTenant(_:ifNotExists:)`` ran it: write seeds that can run twice (upserts, "insert if
    /// missing"), since the tenant already holds data.
    ///
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` when the tenancy has no seed,
    ///   ``TenantedError/Code/tenantNotFound``, or what the seed throws.
    public func seed(_ tenant: TenantID) async throws {
        guard backend.hasSeed else {
            throw TenantedError(.invalidConfiguration, "this Tenancy has no seed; pass one to Tenancy(store:seed:)")
        }
        let backend = self.backend
        try await withTenant(tenant, prohibitingSwitches: true) {
            guard let lease = Tenant.lease, let pool = pools.pool(of: lease) else {
                throw TenantedError(.noTenant, "the seed's scope holds no lease", tenant: tenant)
            }
            try await backend.seed(tenant, pool: pool)
        }
        logger.info("seeded tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
    }
}
