import Logging
import NIOSSL
import PostgresNIO
package import Tenanted

// Fail closed when the schema a connection was asked for is not the one in effect.
//
// The pool-per-tenant schema layout sends `search_path` as a startup parameter. PostgreSQL applies
// a startup parameter to every connection that sends it, so a direct connection cannot differ from
// the next one. What can differ is something between the client and the server: a pooler such as
// PgBouncer with `ignore_startup_parameters = search_path` drops the parameter silently, and every
// query would then run in the server's default schema (`public`, or a schema named like the role),
// shared by all tenants. So:
//
// - every open of a tenant's pool (and every reopen after an eviction) first makes one connection
//   exactly as the pool's are made, runs one query on it, and refuses the pool unless the schema in
//   effect is the tenant's and the `search_path` in effect is exactly the one it sent — a cost per
//   pool open, not a round trip per query;
// - every migration batch checks, in its own transaction and before any DDL, that the database and
//   schema in effect are the tenant's (`checkInEffect`, called by the Fluent adapter's
//   `lockMigrations(on:tenant:)`).

extension PostgresStore {
    /// The remedy every refusal names.
    static let schemaRemedy = "use .schemaPerTenant(.sharedPool) (TENANTED_STORE=postgres-schema-shared in the demo), connect to PostgreSQL directly, or use a pooler that passes search_path on to every server connection (PgBouncer 1.20+: track_extra_parameters = search_path); never ignore_startup_parameters = search_path"

    /// Checks, on one connection made exactly as the pool-per-tenant pool's connections are (same
    /// server, database and `search_path` startup parameter), that `schema` is in effect, before the
    /// pool exists.
    ///
    /// A connection of its own rather than the pool's first: a pooler that refuses the parameter
    /// then fails this connect at once with its reason, where the pool would retry with backoff.
    ///
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` naming the remedy when another
    ///   schema is in effect or the server (a pooler) refused the `search_path` startup parameter;
    ///   ``Tenanted/TenantedError/Code/storeFailure`` when the server could not be reached.
    func verifySearchPath(on server: PostgresServer, database: String, schema: String, tenant: TenantID) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: configuration.eventLoopGroup.any(),
                configuration: try server.connectionConfiguration(database: database, startupParameters: [("search_path", PostgresSQL.identifier(schema))]),
                id: 0,
                logger: logger
            )
        } catch {
            if let message = PostgresSQL.message(of: error), message.contains("startup parameter") {
                throw TenantedError(
                    .invalidConfiguration,
                    "schema per tenant: refusing tenant '\(tenant)': the connection to server '\(server.name)' refused the search_path startup parameter that puts it in its schema (a connection pooler such as PgBouncer is in between); \(Self.schemaRemedy)",
                    tenant: tenant, underlying: error
                )
            }
            let operation = "opening the pool of tenant '\(tenant)' on server '\(server.name)'"
            throw TenantedError.tooManyClients(operation, tenant, error) ?? TenantedError.postgres(operation, nil, error)
        }
        let effective: (path: String, schema: String?)
        do {
            effective = try await Self.searchPathInEffect(on: connection, logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw TenantedError.postgres("checking the schema of tenant '\(tenant)' on server '\(server.name)'", nil, error)
        }
        let sent = PostgresSQL.identifier(schema)
        guard effective.schema == schema, effective.path == sent || effective.path == schema else {
            throw Self.schemaRefusal(tenant: tenant, server: server.name, expected: schema, found: effective.schema)
        }
    }

    private static func searchPathInEffect(on connection: PostgresConnection, logger: Logger) async throws -> (path: String, schema: String?) {
        let rows = try await connection.query("SELECT current_setting('search_path'), current_schema()::text", logger: logger)
        for try await (path, current) in rows.decode((String, String?).self) {
            return (path, current)
        }
        return ("", nil)
    }

    /// Checks that `database` and `schema`, read in a tenant's transaction (a migration batch's,
    /// before any DDL), are the tenant's: its database (database per tenant) or `pool`'s database,
    /// and `public` or its schema. A pool names its own place (a restore's staging copy, a template
    /// being built are not at the tenant's name yet).
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when they are not.
    package func checkInEffect(database: String?, schema: String?, tenant: TenantID, pool: PostgresTenantPool?) throws(TenantedError) {
        let object = try objectName(of: tenant)
        // The pool's own place only for a pool of this tenant; another tenant's pool is refused.
        let own = pool.flatMap { $0.tenant == tenant ? $0 : nil }
        let expectedDatabase = own?.database ?? (isDatabaseLayout ? object : pool?.database)
        let expectedSchema = own?.schema ?? (isDatabaseLayout ? "public" : object)
        guard schema == expectedSchema, expectedDatabase == nil || database == expectedDatabase else {
            throw Self.schemaRefusal(tenant: tenant, server: pool?.server ?? "?", expected: expectedSchema, found: schema)
        }
    }

    /// The refusal when the schema in effect is not the tenant's: one line, the remedy named.
    static func schemaRefusal(tenant: TenantID, server: String, expected: String, found: String?) -> TenantedError {
        let where_ = found.map { "schema '\($0)'" } ?? "no schema"
        return TenantedError(
            .invalidConfiguration,
            "schema per tenant: refusing tenant '\(tenant)': its connection to server '\(server)' runs in \(where_), not '\(expected)' — a connection pooler (such as PgBouncer with ignore_startup_parameters = search_path) dropped the search_path startup parameter; \(schemaRemedy)",
            tenant: tenant
        )
    }
}

extension PostgresServer {
    /// The configuration of one connection to `database` on this server, with the same TLS mode as
    /// ``clientConfiguration(database:maximumConnections:startupParameters:)``.
    func connectionConfiguration(database: String, startupParameters: [(String, String)]) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try ClientTLS.context.get())
        case .require: tls = .require(try ClientTLS.context.get())
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}

/// The TLS context of single connections: made once (it loads the trust roots), shared.
enum ClientTLS {
    static let context = Result<NIOSSLContext, any Error> { try NIOSSLContext(configuration: .makeClientConfiguration()) }
}
