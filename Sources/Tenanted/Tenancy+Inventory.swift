extension Tenancy {
    /// One page of tenant names, ascending (see ``TenantListQuery``); for consoles that must not load
    /// every tenant at once.
    public func tenants(matching query: TenantListQuery) async throws -> [TenantID] {
        try await store.tenants(matching: query)
    }

    /// How many tenants exist.
    public func tenantCount() async throws -> Int {
        try await store.tenantCount()
    }

    /// The bytes `tenant`'s database takes, or `nil` when the store cannot tell.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when the tenant does not exist.
    public func storageSize(of tenant: TenantID) async throws -> Int64? {
        try await store.storageSize(of: tenant)
    }
}
