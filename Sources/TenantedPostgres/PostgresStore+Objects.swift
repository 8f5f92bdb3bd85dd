import Logging
import PostgresNIO
import Tenanted

/// The comment that marks a tenant's database or schema as completely created.
let readyMarker = "tenanted:ready"

extension PostgresStore {
    /// `DATABASE` or `SCHEMA`, for DDL.
    var objectKind: String { isDatabaseLayout ? "DATABASE" : "SCHEMA" }

    /// Creates the tenant's database or schema on `server`. Removes an unmarked leftover of the same
    /// name (this process holds the tenant's lock, so nobody is still creating it); a marked one is a
    /// tenant the catalog does not know, and is never touched.
    ///
    /// - Parameters:
    ///   - template: the template database to copy (database layout), or the key of the schema
    ///     template to replay (schema layout, PostgresStore+SchemaTemplate.swift).
    ///   - markingReady: with a schema template, also writes the ready comment in the same statement.
    func createObject(_ object: String, on server: PostgresServer, tenant: TenantID, template: String? = nil, markingReady: Bool = false) async throws {
        let sql: String
        switch configuration.layout {
        case .databasePerTenant(let configured):
            sql = "CREATE DATABASE \(PostgresSQL.identifier(object)) TEMPLATE \(PostgresSQL.identifier(template ?? configured))"
        case .schemaPerTenant:
            if let template {
                sql = schemaTemplateStatement(key: template, object: object, markingReady: markingReady)
            } else {
                sql = "CREATE SCHEMA \(PostgresSQL.identifier(object))"
            }
        }
        // Up to 15 s for a busy template: its pool's backends end when the server gets to them,
        // which on a loaded machine takes seconds.
        let busyTemplateDeadline = ContinuousClock.now + .seconds(15)
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await maintenance(server, "creating the \(objectKind.lowercased()) '\(object)'", tenant) {
                    try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                return
            } catch let error as TenantedError {
                let state = error.underlying.flatMap(PostgresSQL.sqlState(of:))
                // "source database is being accessed by other users": a template's last sessions
                // (the pool that just migrated it) are still ending. Wait for them, briefly.
                if state == PostgresSQL.objectInUse, template != nil, isDatabaseLayout, ContinuousClock.now < busyTemplateDeadline {
                    attempt -= 1
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                guard attempt == 1, state == PostgresSQL.duplicateDatabase || state == PostgresSQL.duplicateSchema else { throw error }
                if try await isMarkedReady(object, on: server) {
                    throw TenantedError(
                        .tenantExists,
                        "server '\(server.name)' already has a complete \(objectKind.lowercased()) '\(object)' that the placement catalog does not list; remove it or restore its catalog row",
                        tenant: tenant
                    )
                }
                try await dropObject(object, on: server, tenant: tenant)
            }
        }
    }

    /// Drops the tenant's database (`WITH (FORCE)`: other sessions are terminated) or schema, if any.
    func dropObject(_ object: String, on server: PostgresServer, tenant: TenantID) async throws {
        let sql = isDatabaseLayout
            ? "DROP DATABASE IF EXISTS \(PostgresSQL.identifier(object)) WITH (FORCE)"
            : "DROP SCHEMA IF EXISTS \(PostgresSQL.identifier(object)) CASCADE"
        try await maintenance(server, "dropping the \(objectKind.lowercased()) '\(object)'", tenant) {
            try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// Writes (or clears) the ready comment on the tenant's database or schema.
    func markReady(_ object: String, on server: PostgresServer, tenant: TenantID, ready: Bool) async throws {
        let value = ready ? PostgresSQL.literal(readyMarker) : "NULL"
        try await maintenance(server, "marking the \(objectKind.lowercased()) '\(object)'", tenant) {
            try await $0.query(PostgresQuery(unsafeSQL: "COMMENT ON \(objectKind) \(PostgresSQL.identifier(object)) IS \(value)"), logger: logger)
        }
    }

    /// Whether the tenant's database or schema exists on `server` and carries the ready comment.
    func isMarkedReady(_ object: String, on server: PostgresServer) async throws -> Bool {
        let query: PostgresQuery = isDatabaseLayout
            ? "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = \(object)"
            : "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = \(object)"
        return try await maintenance(server, "reading the \(objectKind.lowercased()) '\(object)'", nil) { client in
            for try await comment in try await client.query(query, logger: logger).decode(String.self) {
                return comment == readyMarker
            }
            return false
        }
    }

    /// The names of the ready databases or schemas with this store's prefix on `server`.
    func markedObjects(on server: PostgresServer) async throws -> [String] {
        let prefix = configuration.prefix
        let query: PostgresQuery = isDatabaseLayout
            ? "SELECT datname::text FROM pg_database WHERE starts_with(datname, \(prefix)) AND shobj_description(oid, 'pg_database') = \(readyMarker)"
            : "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, \(prefix)) AND obj_description(oid, 'pg_namespace') = \(readyMarker)"
        return try await maintenance(server, "listing tenants", nil) { client in
            var names: [String] = []
            for try await name in try await client.query(query, logger: logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    /// Runs `body` on `server`'s maintenance client, turning failures into a store failure that names
    /// the operation, the server and the tenant.
    @discardableResult
    func maintenance<Result: Sendable>(
        _ server: PostgresServer, _ operation: String, _ tenant: TenantID?, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        do {
            return try await body(client(.maintenance(server.name)))
        } catch {
            throw TenantedError.postgres("\(operation) on server '\(server.name)'", tenant, error)
        }
    }
}
