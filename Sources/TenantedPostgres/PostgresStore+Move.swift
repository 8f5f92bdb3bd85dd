import Foundation
import Logging
import PostgresNIO
public import Tenanted

extension PostgresStore {
    /// Moves `tenant` to `server`, holding the tenant's lock for the whole move:
    ///
    /// 1. the source refuses writes: a statement trigger on every table of the tenant raises
    ///    SQLSTATE 25006 (read-only transaction) naming the tenant; reads go on;
    /// 2. `pg_dump` of the tenant (its database, or its schema) restored on the target by
    ///    `pg_restore` in one transaction;
    /// 3. verification: the same tables on both sides with the same row counts;
    /// 4. the switch: the target is marked ready and the catalog row names the target;
    /// 5. `beforeDeletingSource` (Tenancy closes this process's pool), a grace period of two watcher
    ///    poll intervals (other processes retire their pools of the old copy), then the source is dropped.
    ///
    /// A failure before the switch drops the copy and makes the source writable again.
    public func move(
        _ tenant: TenantID, to server: String, beforeDeletingSource: @Sendable () async throws -> Void
    ) async throws -> TenantMoveReport {
        let object = try objectName(of: tenant)
        let destination = try self.server(named: server)
        return try await withTenantLock(tenant, waiting: true, operation: "move") { catalog in
            guard let placement = try await catalog.placement(of: tenant), placement.ready else {
                throw TenantedError.notFound(tenant, "move")
            }
            let source = try self.server(named: placement.server)
            guard source.name != destination.name else {
                throw TenantedError(.invalidConfiguration, "tenant '\(tenant)' is already on server '\(source.name)'", tenant: tenant)
            }
            let from = location(of: object, on: source)
            let to = location(of: object, on: destination)
            logger.info("moving tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "from": "\(source.name)", "to": "\(destination.name)"])
            try await setWritesRefused(true, tenant: tenant, at: from, on: source)
            let counts: [String: Int]
            do {
                try await prepareTarget(object, on: destination, tenant: tenant)
                try await copy(tenant, from: from, on: source, to: to, on: destination)
                try await setWritesRefused(false, tenant: tenant, at: to, on: destination)
                counts = try await verifiedRowCounts(tenant, from: from, on: source, to: to, on: destination)
                try await markReady(object, on: destination, tenant: tenant, ready: true)
                try await catalog.setReady(tenant, server: destination.name, newGeneration: true)
                // Other processes' pools of the old copy go stale now, before it is dropped.
                try? await catalog.announce(tenant)

            } catch {
                do {
                    try await dropObject(object, on: destination, tenant: tenant)
                    try await setWritesRefused(false, tenant: tenant, at: from, on: source)
                } catch let cleanup {
                    logger.error("could not undo a failed move", metadata: [Logger.tenantMetadataKey: "\(tenant)", "error": "\(String(reflecting: cleanup))"])
                }
                // The cause's own message (a server's, a tool's) stays in the underlying error.
                let why = (error as? TenantedError).map { ": \($0.message)" } ?? ""
                throw TenantedError(
                    .storeFailure,
                    "moving tenant '\(tenant)' to server '\(destination.name)' failed, it stays on '\(source.name)'\(why)",
                    tenant: tenant, underlying: error
                )
            }
            logger.info("switched tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "to": "\(destination.name)"])
            try await beforeDeletingSource()
            // Other processes retire their pools of the old copy when the switch reaches them: at once
            // by notification, within a poll interval when they poll. A scope that leased such a pool
            // just before would still query the old copy; dropping it under that query answered a read
            // with an error (seen in the cross-process move test under load). Give them that long.
            try? await Task.sleep(for: Self.sourceGracePeriod)
            do {
                try await markReady(object, on: source, tenant: tenant, ready: false)
                try await dropObject(object, on: source, tenant: tenant)
            } catch {
                logger.warning("moved tenant but could not drop its old copy; it is unlisted and can be dropped by hand", metadata: [
                    Logger.tenantMetadataKey: "\(tenant)", "server": "\(source.name)", "object": "\(object)", "error": "\(String(reflecting: error))",
                ])
            }
            return TenantMoveReport(tenant: tenant, from: source.name, to: destination.name, rowCounts: counts)
        }
    }

    /// An empty place for the copy: an empty database from `template0` (so nothing the template adds
    /// clashes with the dump), or no schema (`pg_restore` creates it).
    private func prepareTarget(_ object: String, on server: PostgresServer, tenant: TenantID) async throws {
        if isDatabaseLayout {
            try await createObject(object, on: server, tenant: tenant, template: "template0")
            return
        }
        if try await isMarkedReady(object, on: server) {
            throw TenantedError(.storeFailure, "server '\(server.name)' already has a complete schema '\(object)'; it is never overwritten", tenant: tenant)
        }
        try await dropObject(object, on: server, tenant: tenant)
    }

    /// Installs (or removes) the statement triggers that refuse writes to every table of the tenant.
    func setWritesRefused(_ refused: Bool, tenant: TenantID, at location: (database: String, schema: String), on server: PostgresServer) async throws {
        let schema = PostgresSQL.identifier(location.schema)
        let function = "\(schema).tenanted_refuse_writes"
        try await withClient(on: server, database: location.database) { client in
            try await client.withTransaction(logger: logger) { connection in
                guard refused else {
                    try await connection.query(PostgresQuery(unsafeSQL: "DROP FUNCTION IF EXISTS \(function)() CASCADE"), logger: logger)
                    return
                }
                // Waits for writes in progress (CREATE TRIGGER locks out writers), not forever.
                let timeout = configuration.lockTimeout.components.seconds
                try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(max(1, timeout))s'"), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    CREATE OR REPLACE FUNCTION \(function)() RETURNS trigger LANGUAGE plpgsql AS $tenanted$
                    BEGIN
                        RAISE EXCEPTION USING ERRCODE = '25006',
                            MESSAGE = 'tenant ' || TG_ARGV[0] || ' is being moved to another server; writes are refused until the move ends';
                    END
                    $tenanted$
                    """), logger: logger)
                for table in try await tables(in: location.schema, on: connection) {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        CREATE TRIGGER tenanted_moving BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE \
                        ON \(schema).\(PostgresSQL.identifier(table)) FOR EACH STATEMENT \
                        EXECUTE FUNCTION \(function)(\(PostgresSQL.literal(tenant.rawValue)))
                        """), logger: logger)
                }
            }
        }
    }

    /// The ordinary and partitioned tables of `schema`, sorted.
    private func tables(in schema: String, on connection: PostgresConnection) async throws -> [String] {
        var tables: [String] = []
        let rows = try await connection.query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(schema) AND c.relkind IN ('r', 'p') ORDER BY 1",
            logger: logger
        )
        for try await table in rows.decode(String.self) { tables.append(table) }
        return tables
    }

    /// Row counts of every table of the tenant on both sides; throws unless tables and counts match.
    private func verifiedRowCounts(
        _ tenant: TenantID,
        from source: (database: String, schema: String), on sourceServer: PostgresServer,
        to target: (database: String, schema: String), on targetServer: PostgresServer
    ) async throws -> [String: Int] {
        let before = try await rowCounts(at: source, on: sourceServer)
        let after = try await rowCounts(at: target, on: targetServer)
        guard before == after else {
            let differing = Set(before.keys).union(after.keys).sorted().filter { before[$0] != after[$0] }
            throw TenantedError(
                .storeFailure,
                "the copy of tenant '\(tenant)' does not match: tables \(differing.joined(separator: ", ")) differ",
                tenant: tenant
            )
        }
        return before
    }

    private func rowCounts(at location: (database: String, schema: String), on server: PostgresServer) async throws -> [String: Int] {
        try await withClient(on: server, database: location.database) { client in
            try await client.withConnection { connection in
                var counts: [String: Int] = [:]
                for table in try await tables(in: location.schema, on: connection) {
                    let sql = "SELECT count(*)::int8 FROM \(PostgresSQL.identifier(location.schema)).\(PostgresSQL.identifier(table))"
                    for try await count in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) {
                        counts[table] = Int(count)
                    }
                }
                return counts
            }
        }
    }

    /// `pg_dump` of the tenant on the source, `pg_restore` of it on the target in one transaction.
    private func copy(
        _ tenant: TenantID,
        from source: (database: String, schema: String), on sourceServer: PostgresServer,
        to target: (database: String, schema: String), on targetServer: PostgresServer
    ) async throws {
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("tenanted-move-\(UUID().uuidString).dump")
        defer { try? FileManager.default.removeItem(at: dump) }
        try await self.dump(tenant, at: source, on: sourceServer, to: dump.path)
        try await restoreDump(dump.path, of: tenant, into: target.database, on: targetServer)
    }

    /// `pg_dump` (custom format) of the tenant's database, or of its schema, to `file`.
    func dump(_ tenant: TenantID, at source: (database: String, schema: String), on server: PostgresServer, to file: String) async throws {
        var arguments = ["--format=custom", "--no-owner", "--no-privileges", "--file=\(file)"]
        if !isDatabaseLayout { arguments.append("--schema=\(source.schema)") }
        try await withReservation(1, on: server.name, for: "the pg_dump of tenant '\(tenant)'", tenant: tenant) {
            try await ExternalTool.run(
                try ExternalTool.locate("pg_dump", configured: configuration.pgDumpPath),
                arguments: arguments,
                environment: server.libpqEnvironment(database: source.database),
                what: "pg_dump of tenant '\(tenant)' on server '\(server.name)'"
            )
        }
    }

    /// `pg_restore` of the dump `file` into `database` on `server`, in one transaction.
    func restoreDump(_ file: String, of tenant: TenantID, into database: String, on server: PostgresServer) async throws {
        try await withReservation(1, on: server.name, for: "the pg_restore of tenant '\(tenant)'", tenant: tenant) {
            try await ExternalTool.run(
                try ExternalTool.locate("pg_restore", configured: configuration.pgRestorePath),
                arguments: ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=\(database)", file],
                environment: server.libpqEnvironment(database: database),
                what: "pg_restore of tenant '\(tenant)' on server '\(server.name)'"
            )
        }
    }
}

extension PostgresStore {
    /// How long a move keeps the old copy after the switch, so every process has seen it before the
    /// copy is dropped: two of the watchers' poll intervals.
    static let sourceGracePeriod = PlacementWatcher.pollInterval * 2
}
