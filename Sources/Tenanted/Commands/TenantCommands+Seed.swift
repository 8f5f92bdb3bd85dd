extension TenantCommands {
    /// `tenants seed [--tenant NAME] | --all`: runs the seed again on one tenant (`NAME`, else `TENANT`) or on
    /// every tenant, printing `seeded NAME` for each; fails on the first tenant whose seed fails.
    public func seed(_ name: String?, all: Bool) async throws {
        try await reportingFailures {
            let tenants: [TenantID]
            if all {
                guard name == nil else {
                    throw TenantedError(.invalidConfiguration, "tenants seed takes --tenant NAME or --all, not both")
                }
                tenants = try await tenancy.tenants()
            } else {
                guard let tenant = try selectedTenant(name) else {
                    throw TenantedError(.invalidConfiguration, "tenants seed needs --tenant NAME (or TENANT) or --all")
                }
                tenants = [tenant]
            }
            for tenant in tenants {
                try await tenancy.seed(tenant)
                printLine("seeded \(tenant)")
            }
        }
    }
}
