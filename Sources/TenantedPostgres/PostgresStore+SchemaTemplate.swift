import Foundation
import Logging
import PostgresNIO
import Synchronization
import Tenanted

// Creating a schema-per-tenant tenant from a template, in one round trip.
//
// PostgreSQL has no `CREATE SCHEMA … TEMPLATE`. So, once per migration set and server, the template
// is *captured*: an empty schema with a private name is migrated exactly as a tenant would be, dumped
// as plain SQL (`pg_dump --schema-only` plus its rows as INSERTs, which carries the migration records
// and any rows a migration wrote), and the script is stored in `tenanted.schema_templates` in the
// server's database together with the private name it mentions; the migrated schema is dropped.
//
// A create then sends one `DO` block to the server: it reads the script, puts the tenant's schema
// name in place of the private one, and runs it with `EXECUTE`, then writes the ready comment — one
// statement, so one transaction: the schema appears with every table, index, sequence and migration
// record, or not at all. Everything else about a create (the tenant's lock, the catalog row first
// and `ready` last, the seed before the tenant is visible, the clean-up of a failed or killed one)
// is the ordinary create's.
//
// No usable template (no `pg_dump`, a script the server cannot run): the create runs the migrations.
extension PostgresStore {
    /// Creates `tenant` (schema layout) from the template of `template.key`, making it on first use.
    func createSchemaFromTemplate(
        _ tenant: TenantID, from template: TenantTemplate<PostgresTenantPool>, prepare: ((PostgresTenantPool) async throws -> Void)?
    ) async throws {
        let key = template.key
        if try await ensureSchemaTemplates(key, tenant: tenant, build: template.build) {
            do {
                try await create(tenant, template: key, prepare: prepare)
                return
            } catch let error as TenantedError where error.underlying.flatMap(PostgresSQL.sqlState(of:)) == PostgresSQL.noTemplate {
                // Removed since this process last saw it: made again, once.
                schemaTemplates.withLock { $0.removeAll() }
                if try await ensureSchemaTemplates(key, tenant: tenant, build: template.build) {
                    try await create(tenant, template: key, prepare: prepare)
                    return
                }
            } catch let error as TenantedError where error.code == .storeFailure && error.underlying.flatMap(PostgresSQL.sqlState(of:)) != nil {
                // The server refused the script (something it cannot replay): a template is an
                // optimisation, so this create runs the migrations, and says so.
                logger.warning("could not create a tenant from its schema template; running its migrations instead", metadata: [
                    Logger.tenantMetadataKey: "\(tenant)", "template": "\(key)", "error": "\(String(reflecting: error))",
                ])
            }
        }
        try await create(tenant, template: nil) { pool in
            try await template.build(pool)
            try await prepare?(pool)
        }
    }

    /// Makes sure every server has the template of `key` (a create may be placed on any); `false`
    /// when one cannot be made. What this process has seen is remembered: no round trip per create.
    private func ensureSchemaTemplates(_ key: String, tenant: TenantID, build: (PostgresTenantPool) async throws -> Void) async throws -> Bool {
        for server in configuration.servers where !schemaTemplates.withLock({ $0.contains(server.name + "/" + key) }) {
            guard try await ensureSchemaTemplate(key, on: server, tenant: tenant, build: build) else { return false }
        }
        return true
    }

    /// Makes sure `server` has the template of `key`; `false` when none can be made here (no `pg_dump`).
    private func ensureSchemaTemplate(
        _ key: String, on server: PostgresServer, tenant: TenantID, build: (PostgresTenantPool) async throws -> Void
    ) async throws -> Bool {
        if try await hasSchemaTemplate(key, on: server) {
            schemaTemplates.withLock { _ = $0.insert(server.name + "/" + key) }
            return true
        }
        let pgDump: String
        do {
            pgDump = try ExternalTool.locate("pg_dump", configured: configuration.pgDumpPath)
        } catch {
            logger.notice("no pg_dump: schema-per-tenant creates run the migrations instead of copying a template", metadata: ["server": "\(server.name)"])
            return false
        }
        do {
            try await captureSchemaTemplate(key, on: server, tenant: tenant, pgDump: pgDump, build: build)
        } catch let error as TenantedError where error.code == .storeFailure {
            // A template is an optimisation: when making or storing it fails (CI saw "storing the
            // schema template … failed" once, with no SQLSTATE), this create runs the migrations,
            // says why, and a later create tries the template again.
            logger.warning("could not make the tenant schema template; running the migrations instead", metadata: [
                Logger.tenantMetadataKey: "\(tenant)", "server": "\(server.name)", "template": "\(key)",
                "error": "\(String(reflecting: error))", "detail": "\(error.detail ?? "")",
            ])
            return false
        }
        schemaTemplates.withLock { _ = $0.insert(server.name + "/" + key) }
        return true
    }

    private func hasSchemaTemplate(_ key: String, on server: PostgresServer) async throws -> Bool {
        try await maintenance(server, "reading the schema template '\(key)'", nil) { client in
            let exists = try await client.query("SELECT to_regclass('tenanted.schema_templates') IS NOT NULL", logger: logger)
            var found = false
            for try await value in exists.decode(Bool.self) { found = value }
            guard found else { return false }
            let rows = try await client.query("SELECT 1 FROM tenanted.schema_templates WHERE store = \(catalogKey) AND key = \(key)", logger: logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// Migrates a private schema, dumps it as a script, stores the script, and drops the schema. When
    /// another process stored the same template first, theirs stays.
    private func captureSchemaTemplate(
        _ key: String, on server: PostgresServer, tenant: TenantID, pgDump: String, build: (PostgresTenantPool) async throws -> Void
    ) async throws {
        let building = configuration.prefix + "_building_" + Self.hex(UInt64.random(in: 0...UInt64.max))
        let file = FileManager.default.temporaryDirectory.path + "/tenanted-template-\(UUID().uuidString).sql"
        defer { unlink(file) }
        do {
            try await createObject(building, on: server, tenant: tenant)
            try await withOwnPool(tenant, object: building, on: server, build)
            try await withReservation(1, on: server.name, for: "the pg_dump of a schema template", tenant: tenant) {
                try await ExternalTool.run(
                    pgDump,
                    arguments: ["--schema=\(building)", "--no-owner", "--inserts", "--file=\(file)"],
                    environment: server.libpqEnvironment(database: server.database),
                    what: "pg_dump of the schema template on server '\(server.name)'"
                )
            }
            let script = try Self.templateScript(fromDump: try String(contentsOfFile: file, encoding: .utf8))
            try await maintenance(server, "storing the schema template '\(key)'", tenant) { client in
                try await client.withTransaction(logger: logger) { connection in
                    // The table once made, only the insert below runs: no lock another process's
                    // stalled set-up could hold up (``ensureCatalog()``).
                    if try await !Self.templateTableExists(on: connection, logger: logger) {
                        try await Self.lockCatalogSetUp(on: connection, logger: logger)
                        try await connection.query(
                            """
                            CREATE TABLE IF NOT EXISTS tenanted.schema_templates (
                                store text NOT NULL,
                                key text NOT NULL,
                                placeholder text NOT NULL,
                                script text NOT NULL,
                                made_at timestamptz NOT NULL DEFAULT now(),
                                PRIMARY KEY (store, key)
                            )
                            """,
                            logger: logger
                        )
                    }
                    try await connection.query(
                        """
                        INSERT INTO tenanted.schema_templates (store, key, placeholder, script)
                        VALUES (\(catalogKey), \(key), \(building), \(script)) ON CONFLICT DO NOTHING
                        """,
                        logger: logger
                    )
                }
            }
            logger.info("made the tenant schema template", metadata: ["server": "\(server.name)", "template": "\(key)"])
        } catch {
            try? await dropObject(building, on: server, tenant: tenant)
            throw error
        }
        try await dropObject(building, on: server, tenant: tenant)
    }

    /// Whether `tenanted.schema_templates` exists on `connection`'s server.
    private static func templateTableExists(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT to_regclass('tenanted.schema_templates') IS NOT NULL", logger: logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }

    /// The statement that creates the schema `object` from the template of `key`, and marks it ready
    /// when `markingReady`. It fails with SQLSTATE P0002 when the server has no such template.
    func schemaTemplateStatement(key: String, object: String, markingReady: Bool) -> String {
        let mark = markingReady ? "COMMENT ON SCHEMA \(PostgresSQL.identifier(object)) IS \(PostgresSQL.literal(readyMarker));" : ""
        return """
            DO $tenanted$
            DECLARE
                template_row record;
            BEGIN
                SELECT t.script, t.placeholder INTO template_row FROM tenanted.schema_templates t
                WHERE t.store = \(PostgresSQL.literal(catalogKey)) AND t.key = \(PostgresSQL.literal(key));
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'no schema template' USING ERRCODE = \(PostgresSQL.literal(PostgresSQL.noTemplate));
                END IF;
                EXECUTE replace(template_row.script, template_row.placeholder, quote_ident(\(PostgresSQL.literal(object))));
                \(mark)
            END
            $tenanted$
            """
    }

    /// A plain `pg_dump` of a schema as a script one `EXECUTE` can run inside a create's transaction:
    /// psql meta-commands (`\restrict`) dropped, and the dump's session settings made local to the
    /// transaction (`SET LOCAL`, `set_config(…, true)`), so they never outlive the create on a pooled
    /// connection.
    /// - Throws: ``Tenanted/TenantedError/Code/storeFailure`` when the dump is not one (empty).
    static func templateScript(fromDump dump: String) throws(TenantedError) -> String {
        var lines: [Substring] = []
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("\\restrict ") || line.hasPrefix("\\unrestrict ") { continue }
            if line.wholeMatch(of: /SET [a-z_]+ = [^;]*;/) != nil {
                lines.append("SET LOCAL " + line.dropFirst(4))
            } else if line.hasPrefix("SELECT pg_catalog.set_config("), line.hasSuffix(", false);") {
                lines.append(line.dropLast(", false);".count) + ", true);")
            } else {
                lines.append(line)
            }
        }
        let script = lines.joined(separator: "\n")
        guard script.contains("CREATE SCHEMA") else {
            throw TenantedError(.storeFailure, "pg_dump of the schema template printed no schema")
        }
        return script
    }
}

extension PostgresSQL {
    /// `no_data_found`: raised by a create from a schema template the server does not have.
    static let noTemplate = "P0002"
}
