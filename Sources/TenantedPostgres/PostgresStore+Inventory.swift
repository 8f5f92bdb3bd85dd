import Logging
import PostgresNIO
public import Tenanted

extension PostgresStore {
    /// The bytes of `tenant`'s database (`pg_database_size`) or of every relation in its schema
    /// (`pg_total_relation_size`, indexes and TOAST included), on the server that holds it.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when the tenant does not exist.
    public func storageSize(of tenant: TenantID) async throws -> Int64? {
        guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else {
            throw TenantedError.notFound(tenant, "measure")
        }
        let server = try server(named: placement.server)
        let object = try objectName(of: tenant)
        let query: PostgresQuery = isDatabaseLayout
            ? "SELECT pg_database_size(datname)::int8 FROM pg_database WHERE datname = \(object)"
            : """
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(object) AND c.relkind IN ('r', 'm', 'p')
            """
        return try await maintenance(server, "measuring a tenant", tenant) { client in
            for try await size in try await client.query(query, logger: logger).decode(Int64.self) { return size }
            throw TenantedError.notFound(tenant, "measure")
        }
    }

    /// How many tenants each server holds, from the catalog in one query.
    public func tenantCountsByServer() async throws -> [String: Int] {
        try await catalog { try await $0.readyPlacements() }.reduce(into: [:]) { counts, placement in
            counts[placement.server, default: 0] += 1
        }
    }
}
