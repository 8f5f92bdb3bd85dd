import Foundation
import Logging
import NIOPosix
import PostgresNIO
public import Tenanted

// Backup, restore, suspension and create-from-template for the PostgreSQL stores.
//
// - A suspension is the catalog row's `suspended` column, changed under the tenant's lock with a new
//   generation and announced: every process's pools of the tenant go stale (PlacementWatcher), and
//   the next open reads the row and refuses the tenant.
// - A backup is `pg_dump` (custom format) of the tenant's database or schema into an owner-only file,
//   then the backup format's header and that dump, flushed and linked into place.
// - A restore holds the tenant's lock throughout, writes the tenant's catalog row (not ready) first
//   when it has none, restores the dump into a staging database or schema named for the tenant that
//   no listing shows, migrates it there, and only then swaps it in and marks it ready. The row is the
//   commit point, as for a create: a leftover at the tenant's name with a row that is not ready is an
//   interrupted create's or restore's, removed by the next one; a complete object with no row is
//   someone else's and refused. A schema dump names its schema, so a schema is first renamed in a
//   scratch database (which needs the CREATEDB privilege).
// - Templates (database per tenant): a migrated database `<prefix>_template_<key>` that accepts no
//   connections, copied by `CREATE DATABASE … TEMPLATE`. The schema layout replays a captured script
//   in one statement (PostgresStore+SchemaTemplate.swift).
extension PostgresStore {
    public var backupKind: String {
        isDatabaseLayout ? "postgres-database" : "postgres-schema"
    }

    public func openIgnoringSuspension(_ tenant: TenantID) async throws -> PostgresTenantPool {
        try await open(tenant, ignoringSuspension: true)
    }

    // MARK: Suspension

    public func suspend(_ tenant: TenantID, reason: String?) async throws {
        try await setSuspended(tenant, reason: reason ?? "", operation: "suspend")
    }

    public func resume(_ tenant: TenantID) async throws {
        try await setSuspended(tenant, reason: nil, operation: "resume")
    }

    private func setSuspended(_ tenant: TenantID, reason: String?, operation: String) async throws {
        try await withTenantLock(tenant, waiting: true, operation: operation) { catalog in
            guard let placement = try await catalog.placement(of: tenant), placement.ready else {
                throw TenantedError.notFound(tenant, operation)
            }
            // Resuming a tenant that is not suspended changes nothing.
            if reason == nil && placement.suspended == nil { return }
            try await catalog.setSuspended(tenant, reason: reason)
            try await catalog.announce(tenant)
        }
    }

    public func suspension(of tenant: TenantID) async throws -> TenantSuspension? {
        guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else {
            throw TenantedError.notFound(tenant, "suspension(of:)")
        }
        return placement.suspended.map { TenantSuspension(reason: $0.isEmpty ? nil : $0) }
    }

    // MARK: Backup

    public func backup(_ tenant: TenantID, to destination: String, header: TenantBackupHeader) async throws {
        let object = try objectName(of: tenant)
        guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else {
            throw TenantedError.notFound(tenant, "backup")
        }
        let server = try server(named: placement.server)
        let location = location(of: object, on: server)
        var withSchema = header
        withSchema.details = ["schema": location.schema]
        let header = withSchema
        let snapshot = destination + ".snapshot-\(UUID().uuidString.prefix(8))"
        let permissions = configuration.filePermissions
        defer { unlink(snapshot) }
        // pg_dump writes into the existing owner-only file, keeping its mode.
        try await blocking { try TenantFileSystem.createEmpty(snapshot, permissions) }
        try await dump(tenant, at: location, on: server, to: snapshot)
        try await blocking {
            try TenantBackupArchive.write(header: header, payload: snapshot, to: destination, permissions: permissions)
        }
    }

    // MARK: Restore

    public func restore(
        _ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (PostgresTenantPool) async throws -> Void
    ) async throws {
        let object = try objectName(of: tenant)
        let staging = restoreStagingName(of: tenant)
        let folder = FileManager.default.temporaryDirectory.path
        let payload = folder + "/tenanted-restore-\(UUID().uuidString).dump"
        defer { unlink(payload) }
        let permissions = configuration.filePermissions
        try await blocking { try archive.extractPayload(to: payload, permissions: permissions) }
        try await withTenantLock(tenant, waiting: replace, operation: "restore") { catalog in
            let existing = try await catalog.placement(of: tenant)
            if let existing, existing.ready, !replace { throw TenantedError.exists(tenant) }
            let replacing = existing?.ready == true
            let server: PostgresServer
            if let existing {
                server = try self.server(named: existing.server)
            } else {
                server = try await choose(for: tenant, catalog: catalog)
                // A complete object no catalog row names is someone else's: never touched.
                if try await isMarkedReady(object, on: server) {
                    throw TenantedError(
                        .tenantExists,
                        "server '\(server.name)' already has a complete \(objectKind.lowercased()) '\(object)' that the placement catalog does not list; remove it or restore its catalog row",
                        tenant: tenant
                    )
                }
                // The catalog row comes first, as a create's does: from here on whatever this restore
                // leaves at the tenant's name (killed after its rename, say) is recognisably ours, and
                // the next create or restore of the name, holding the same lock, removes or completes it.
                try await catalog.insert(tenant, server: server.name)
            }
            var oldDropped = false
            do {
                // The staging name is the tenant's own: a copy left by a killed restore is removed here.
                try await dropObject(staging, on: server, tenant: tenant)
                try await restoreStaging(payload, schema: archive.header.details["schema"], as: staging, on: server, tenant: tenant)
                try await withOwnPool(tenant, object: staging, on: server, prepare)
                if replacing {
                    // Invisible, announced (every process drops its pools), then gone.
                    try await catalog.setNotReady(tenant)
                    try await catalog.announce(tenant)
                }
                // The old copy, or the leftover of an interrupted create or restore (the row is not
                // ready, and this process holds the tenant's lock: nobody is still working on it).
                try await dropObject(object, on: server, tenant: tenant)
                oldDropped = replacing
                try await renameObject(staging, to: object, on: server, tenant: tenant)
            } catch {
                if oldDropped {
                    logger.error("restore failed after the old copy was dropped; the restored copy is kept, unlisted, until the next restore of the tenant", metadata: [
                        Logger.tenantMetadataKey: "\(tenant)", "server": "\(server.name)", "object": "\(staging)",
                    ])
                    throw error
                }
                try? await dropObject(staging, on: server, tenant: tenant)
                if let existing, existing.ready, try await isMarkedReady(object, on: server) {
                    // The old copy is still there: it stays the tenant.
                    try? await catalog.setReady(tenant, server: existing.server)
                } else if existing == nil {
                    try? await catalog.remove(tenant)
                }
                throw error
            }
            try await markReady(object, on: server, tenant: tenant, ready: true)
            try await catalog.setRestored(tenant, server: server.name)
            try? await catalog.announce(tenant)
        }
    }

    /// The staging name of a restore of `tenant`: the tenant's own (a hash of its name), so a restore
    /// killed before its rename leaves a copy the next restore of the tenant recognises and removes.
    /// No tenant's object has it (a tenant name never starts with `_`).
    func restoreStagingName(of tenant: TenantID) -> String {
        configuration.prefix + "_restore_" + Self.hex(tenant.stableHash64)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Restores the dump `file` as the database or schema `staging` on `server`. A schema dump
    /// creates the schema it was taken of (`schema`): it is restored into a scratch database,
    /// renamed there, and dumped again.
    private func restoreStaging(_ file: String, schema: String?, as staging: String, on server: PostgresServer, tenant: TenantID) async throws {
        if isDatabaseLayout {
            try await createObject(staging, on: server, tenant: tenant, template: "template0")
            try await restoreDump(file, of: tenant, into: staging, on: server)
            return
        }
        guard let schema, !schema.isEmpty else {
            throw TenantedError(.badBackup, "the backup file does not name the schema it holds; nothing was restored", tenant: tenant)
        }
        // The tenant's own scratch name too: a killed restore's scratch database goes on the next run.
        let scratch = configuration.prefix + "_scratch_" + Self.hex(tenant.stableHash64)
        let renamed = FileManager.default.temporaryDirectory.path + "/tenanted-restore-\(UUID().uuidString).dump"
        defer { unlink(renamed) }
        try await createScratch(scratch, on: server, tenant: tenant)
        do {
            try await restoreDump(file, of: tenant, into: scratch, on: server)
            try await withClient(on: server, database: scratch) { client in
                _ = try await client.query(
                    PostgresQuery(unsafeSQL: "ALTER SCHEMA \(PostgresSQL.identifier(schema)) RENAME TO \(PostgresSQL.identifier(staging))"),
                    logger: logger
                )
            }
            try await dump(tenant, at: (scratch, staging), on: server, to: renamed)
        } catch {
            try? await dropScratch(scratch, on: server, tenant: tenant)
            throw error
        }
        try await dropScratch(scratch, on: server, tenant: tenant)
        try await restoreDump(renamed, of: tenant, into: server.database, on: server)
    }

    /// Drops whatever an earlier run left under the scratch name, then creates the scratch database.
    /// A killed restore's `CREATE DATABASE` can still be running on the server when the next run
    /// starts (a backend notices its client is gone only when it answers): this run's create then
    /// collides with it (SQLSTATE 23505 or 42P04; seen in a loaded run). It waits for that one to end,
    /// drops what it made, and creates again, for up to about 10 s.
    private func createScratch(_ scratch: String, on server: PostgresServer, tenant: TenantID) async throws {
        for attempt in 1...40 {
            try await dropScratch(scratch, on: server, tenant: tenant)
            do {
                try await maintenance(server, "creating a scratch database", tenant) {
                    try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(PostgresSQL.identifier(scratch)) TEMPLATE template0"), logger: logger)
                }
                return
            } catch let error as TenantedError where attempt < 40
                && [PostgresSQL.uniqueViolation, PostgresSQL.duplicateDatabase].contains(error.underlying.flatMap(PostgresSQL.sqlState(of:)))
            {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    private func dropScratch(_ database: String, on server: PostgresServer, tenant: TenantID) async throws {
        try await maintenance(server, "dropping a scratch database", tenant) {
            try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(PostgresSQL.identifier(database)) WITH (FORCE)"), logger: logger)
        }
    }

    /// Renames the private database or schema `source` (a template being built, a restore's staging
    /// copy) to `target`. A database cannot be renamed while sessions use it: the staging pool's
    /// backends may take a moment to end, and a pooler in session mode keeps its server connection
    /// to the database open, idle, after our client left (PgBouncer did, and every rename failed).
    /// Nobody else may use a private database, so such sessions are ended, then the rename retried.
    func renameObject(_ source: String, to target: String, on server: PostgresServer, tenant: TenantID) async throws {
        let sql = "ALTER \(objectKind) \(PostgresSQL.identifier(source)) RENAME TO \(PostgresSQL.identifier(target))"
        for attempt in 1...50 {
            do {
                try await maintenance(server, "renaming the \(objectKind.lowercased()) '\(source)'", tenant) {
                    try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                return
            } catch let error as TenantedError where error.underlying.flatMap(PostgresSQL.sqlState(of:)) == PostgresSQL.objectInUse && attempt < 50 {
                if isDatabaseLayout, attempt >= 2 {
                    _ = try? await maintenance(server, "ending the sessions of '\(source)'", tenant) {
                        try await $0.query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(source) AND pid <> pg_backend_pid()",
                            logger: logger
                        )
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    // MARK: Create from a template

    public func create(
        _ tenant: TenantID, from template: TenantTemplate<PostgresTenantPool>, prepare: ((PostgresTenantPool) async throws -> Void)?
    ) async throws {
        guard isDatabaseLayout else {
            try await createSchemaFromTemplate(tenant, from: template, prepare: prepare)
            return
        }
        let name = configuration.prefix + "_template_" + template.key
        // The template lives on each server; a create copies the one on the tenant's server, so it
        // is made on every server that lacks it (usually once, on first use).
        for server in configuration.servers where !(try await isTemplate(name, on: server)) {
            try await makeTemplate(name, on: server, tenant: tenant, build: template.build)
        }
        try await create(tenant, template: name, prepare: prepare)
    }

    /// Whether `name` on `server` is a finished template (its comment says so).
    private func isTemplate(_ name: String, on server: PostgresServer) async throws -> Bool {
        try await maintenance(server, "reading the template '\(name)'", nil) { client in
            let query: PostgresQuery = "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = \(name)"
            for try await comment in try await client.query(query, logger: logger).decode(String.self) {
                return comment == templateMarker
            }
            return false
        }
    }

    /// Builds the template under a private name, migrates it, closes it to connections, and renames
    /// it into place; another process that finished first wins, and this copy is dropped.
    private func makeTemplate(
        _ name: String, on server: PostgresServer, tenant: TenantID, build: (PostgresTenantPool) async throws -> Void
    ) async throws {
        let building = configuration.prefix + "_building_" + Self.randomSuffix()
        let base: String
        if case .databasePerTenant(let configured) = configuration.layout { base = configured } else { base = "template1" }
        try await createObject(building, on: server, tenant: tenant, template: base)
        do {
            try await withOwnPool(tenant, object: building, on: server, build)
            try await maintenance(server, "finishing the template '\(name)'", tenant) { client in
                try await client.query(PostgresQuery(unsafeSQL: "COMMENT ON DATABASE \(PostgresSQL.identifier(building)) IS \(PostgresSQL.literal(templateMarker))"), logger: logger)
            }
            do {
                try await renameObject(building, to: name, on: server, tenant: tenant)
            } catch let error as TenantedError
                where [PostgresSQL.duplicateDatabase, PostgresSQL.uniqueViolation].contains(error.underlying.flatMap(PostgresSQL.sqlState(of:)))
            {
                // Another process finished the same template first (two renames racing meet on the
                // catalog's unique index): use theirs.
                try await dropObject(building, on: server, tenant: tenant)
                return
            }
            // Nobody may be connected to a template while it is copied: refuse connections from now on.
            try await maintenance(server, "finishing the template '\(name)'", tenant) { client in
                try await client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(PostgresSQL.identifier(name)) WITH ALLOW_CONNECTIONS false"), logger: logger)
            }
            logger.info("made the tenant template", metadata: ["server": "\(server.name)", "template": "\(name)"])
        } catch {
            try? await dropObject(building, on: server, tenant: tenant)
            throw error
        }
    }

    // MARK: Helpers

    /// Eight random lowercase hex digits, for staging and scratch names no tenant can have (a tenant
    /// name never starts with `_`).
    static func randomSuffix() -> String {
        String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    /// Runs blocking file work on the thread pool.
    func blocking(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}

/// The comment of a finished template database.
let templateMarker = "tenanted:template"
