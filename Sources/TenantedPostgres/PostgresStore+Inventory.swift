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

    /// One page of tenants from the catalog, in one keyset query per page (names compare bytewise,
    /// `COLLATE "C"`, as ``Tenanted/TenantID`` does); each name is checked against the ready
    /// databases or schemas of its server, like ``tenants()``, so a catalog row whose object is gone
    /// is not listed.
    public func tenants(matching query: TenantListQuery) async throws -> [TenantID] {
        var page: [TenantID] = []
        var after = query.after
        var before = query.before
        while page.count < query.limit {
            let window = try TenantListQuery(prefix: query.prefix, after: after, before: before, limit: query.limit)
            let placements = try await catalog { try await $0.readyPlacements(matching: window) }
            var marked: [String: Set<String>] = [:]
            for (serverName, here) in Dictionary(grouping: placements, by: \.server) {
                let names = here.map { configuration.prefix + $0.tenant.rawValue }
                marked[serverName] = Set(try await markedObjects(on: try server(named: serverName), among: names))
            }
            for placement in placements
            where page.count < query.limit && marked[placement.server]?.contains(configuration.prefix + placement.tenant.rawValue) == true {
                page.append(placement.tenant)
            }
            // A short read is the end of the range; otherwise go on past what was read.
            guard placements.count == window.limit, let last = placements.last else { break }
            if query.before == nil { after = last.tenant } else { before = last.tenant }
        }
        return query.before == nil ? page : page.reversed()
    }

    /// The number of ready tenants in the catalog.
    public func tenantCount() async throws -> Int {
        try await catalog { try await $0.readyCount() }
    }

    /// Which of `names` are ready databases or schemas of this store on `server`.
    func markedObjects(on server: PostgresServer, among names: [String]) async throws -> [String] {
        guard !names.isEmpty else { return [] }
        let query: PostgresQuery = isDatabaseLayout
            ? "SELECT datname::text FROM pg_database WHERE datname = ANY(\(names)) AND shobj_description(oid, 'pg_database') = \(readyMarker)"
            : "SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(\(names)) AND obj_description(oid, 'pg_namespace') = \(readyMarker)"
        return try await maintenance(server, "listing tenants", nil) { client in
            var found: [String] = []
            for try await name in try await client.query(query, logger: logger).decode(String.self) { found.append(name) }
            return found
        }
    }
}

extension CatalogSession {
    /// Ready placements in `query`'s range, ascending (descending for a `before` query), at most
    /// `query.limit`.
    func readyPlacements(matching query: TenantListQuery) async throws -> [Placement] {
        let after = query.after?.rawValue
        let before = query.before?.rawValue
        let sql: PostgresQuery = query.before == nil
            ? """
            SELECT tenant, server FROM tenanted.placements WHERE store = \(key) AND ready AND starts_with(tenant, \(query.prefix))
            AND (\(after)::text IS NULL OR tenant COLLATE "C" > \(after)) ORDER BY tenant COLLATE "C" LIMIT \(query.limit)
            """
            : """
            SELECT tenant, server FROM tenanted.placements WHERE store = \(key) AND ready AND starts_with(tenant, \(query.prefix))
            AND tenant COLLATE "C" < \(before) ORDER BY tenant COLLATE "C" DESC LIMIT \(query.limit)
            """
        var placements: [Placement] = []
        for try await (name, server) in try await connection.query(sql, logger: logger).decode((String, String).self) {
            guard let tenant = try? TenantID(name) else { continue }
            placements.append(Placement(tenant: tenant, server: server, ready: true, generation: 0))
        }
        return placements
    }

    /// How many placements are ready.
    func readyCount() async throws -> Int {
        let rows = try await connection.query("SELECT count(*)::int8 FROM tenanted.placements WHERE store = \(key) AND ready", logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}
