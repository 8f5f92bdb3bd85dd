extension TenantCommands {
    /// `tenants backup NAME --to FILE`: writes a backup of the tenant; prints `backed up NAME`.
    public func backup(_ name: String, to file: String?) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            try await tenancy.backup(tenant, to: try required(file, "tenants backup needs --to FILE"))
            printLine("backed up \(tenant)")
        }
    }

    /// `tenants restore NAME --from FILE [--replace]`: creates (or replaces) the tenant from a backup;
    /// prints `restored NAME`.
    public func restore(_ name: String, from file: String?, replace: Bool) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            try await tenancy.restore(tenant, from: try required(file, "tenants restore needs --from FILE"), replace: replace)
            printLine("restored \(tenant)")
        }
    }

    /// `tenants clone SOURCE DESTINATION`: creates DESTINATION with a copy of SOURCE's data; prints
    /// `cloned SOURCE to DESTINATION`.
    public func clone(_ source: String, to destination: String) async throws {
        try await reportingFailures {
            let from = try TenantID(source)
            let to = try TenantID(destination)
            try await tenancy.clone(from, to: to)
            printLine("cloned \(from) to \(to)")
        }
    }

    /// `tenants suspend NAME [--reason TEXT]`: every process refuses the tenant (503) until it is
    /// resumed; prints `suspended NAME`.
    public func suspend(_ name: String, reason: String?) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            try await tenancy.suspend(tenant, reason: reason)
            printLine("suspended \(tenant)")
        }
    }

    /// `tenants resume NAME`: every process serves the tenant again; prints `resumed NAME`.
    public func resume(_ name: String) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            try await tenancy.resume(tenant)
            printLine("resumed \(tenant)")
        }
    }
}
