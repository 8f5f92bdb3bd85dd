import MariaDBClient
public import Tenanted

extension MySQLStore {
    /// The bytes of `tenant`'s tables and indexes, as `information_schema.tables` reports them
    /// (InnoDB's estimate: it moves in pages, not rows).
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when the tenant does not exist.
    public func storageSize(of tenant: TenantID) async throws -> Int64? {
        let database = try databaseName(of: tenant)
        return try await withCatalog { connection in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready else {
                throw TenantedError(.tenantNotFound, "measure: tenant '\(tenant)' does not exist", tenant: tenant)
            }
            let rows = try await connection.query(
                "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS SIGNED) AS size FROM information_schema.tables WHERE table_schema = ?",
                [.text(database)]
            ).rows
            return rows.first?["size"]?.int64 ?? 0
        }
    }
}
