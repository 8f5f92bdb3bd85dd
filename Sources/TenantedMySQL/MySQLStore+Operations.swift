import MariaDBClient
public import Tenanted

// Suspension for the MySQL store: the catalog row's `suspended` column, changed under the tenant's
// lock with a new generation and announced through the change counter, so every process's pools of
// the tenant go stale at its next poll and the next open reads the row and refuses the tenant. As a
// destroy does, the change waits two poll intervals before it returns: by then no process starts a
// new scope on the tenant. Backup, restore and clone are not implemented here yet (refused with
// `invalidConfiguration` by the protocol's defaults): they need a `mariadb-dump` / `mariadb` route.
extension MySQLStore {
    public func openIgnoringSuspension(_ tenant: TenantID) async throws -> MySQLTenantPool {
        try await open(tenant, ignoringSuspension: true)
    }

    public func suspend(_ tenant: TenantID, reason: String?) async throws {
        try await setSuspended(tenant, reason: reason ?? "", operation: "suspend")
    }

    public func resume(_ tenant: TenantID) async throws {
        try await setSuspended(tenant, reason: nil, operation: "resume")
    }

    public func suspension(of tenant: TenantID) async throws -> TenantSuspension? {
        let database = try databaseName(of: tenant)
        let row = try await withCatalog { connection -> CatalogRow? in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready,
                try await databaseExists(database, on: connection)
            else { return nil }
            return row
        }
        guard let row else { throw TenantedError.notFound(tenant, "suspension(of:)") }
        return row.suspended.map { TenantSuspension(reason: $0.isEmpty ? nil : $0) }
    }

    private func setSuspended(_ tenant: TenantID, reason: String?, operation: String) async throws {
        let changed = try await withTenantLock(tenant, waiting: true) { connection -> Bool in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready else {
                throw TenantedError.notFound(tenant, operation)
            }
            // Resuming a tenant that is not suspended changes nothing.
            if reason == nil && row.suspended == nil { return false }
            let generation = try await bumpVersion(on: connection)
            try await connection.query(
                "UPDATE \(catalogTable) SET suspended = ?, generation = ? WHERE store_key = ? AND tenant = ?",
                [reason.map { .text($0) } ?? .null, .int(generation), .text(storeKey), .text(tenant.rawValue)]
            )
            // After the row: a poll that sees this counter value reads the new generation.
            _ = try await bumpVersion(on: connection)
            return true
        }
        if changed { try await Task.sleep(for: configuration.coherenceInterval * 2) }
    }
}
