import Foundation
import Logging
import PostgresNIO
import Tenanted
import TenantedPostgres
import TenantedTestSupport
import Testing

/// The PostgreSQL servers of the test run: `TENANTED_POSTGRES_URL` (and `TENANTED_POSTGRES_URL_2` for
/// placement). Tests that need them are disabled, with the reason printed, when they are unset.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let secondURL = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL_2"].flatMap { $0.isEmpty ? nil : $0 }

    /// PgBouncers in front of the server at ``url`` (scripts/test and .ci/run start them with
    /// scripts/pgbouncer): transaction pooling and session pooling, both with
    /// `ignore_startup_parameters = search_path`.
    static let pgbouncerTransactionURL = ProcessInfo.processInfo.environment["TENANTED_PGBOUNCER_TRANSACTION_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let pgbouncerSessionURL = ProcessInfo.processInfo.environment["TENANTED_PGBOUNCER_SESSION_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// A PgBouncer in transaction pooling that does not ignore `search_path`, so refuses it at connect.
    static let pgbouncerRefusingURL = ProcessInfo.processInfo.environment["TENANTED_PGBOUNCER_REFUSING_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let hasPgBouncers = url != nil && pgbouncerTransactionURL != nil && pgbouncerSessionURL != nil

    static let unsetReason: Comment = "TENANTED_POSTGRES_URL is not set: PostgreSQL tests skipped (scripts/test starts a throwaway server when PostgreSQL is installed)"
    static let pgbouncerUnsetReason: Comment = "TENANTED_POSTGRES_URL, TENANTED_PGBOUNCER_TRANSACTION_URL and TENANTED_PGBOUNCER_SESSION_URL are not all set: PgBouncer tests skipped (scripts/test starts PgBouncers when pgbouncer is installed)"
    static let secondUnsetReason: Comment = "TENANTED_POSTGRES_URL_2 is not set: tests that need two PostgreSQL servers skipped"

    static func primary() throws -> PostgresServer {
        try PostgresServer(name: "primary", url: try #require(url))
    }

    static func secondary() throws -> PostgresServer {
        try PostgresServer(name: "secondary", url: try #require(secondURL))
    }

    /// A prefix no other test uses, so tests share servers without seeing each other's tenants.
    static func uniquePrefix() -> String {
        "t" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
    }
}

/// PgBouncer's pooling modes the pooler tests run through.
enum PoolingMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case transaction, session

    /// The PgBouncer of this mode, named `primary` like the direct server.
    func server() throws -> PostgresServer {
        let url = switch self {
        case .transaction: PostgresTestServer.pgbouncerTransactionURL
        case .session: PostgresTestServer.pgbouncerSessionURL
        }
        var server = try PostgresServer(name: "primary", url: try #require(url))
        server.tls = .disable  // PgBouncer here has no TLS; skip the round trip that asks for it
        return server
    }

    var testDescription: String { rawValue }
}

/// The layouts every PostgreSQL conformance test runs against.
enum TestLayout: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case database, schema, sharedSchema

    var layout: PostgresStore.Layout {
        switch self {
        case .database: .databasePerTenant()
        case .schema: .schemaPerTenant(.poolPerTenant)
        case .sharedSchema: .schemaPerTenant(.sharedPool)
        }
    }

    var testDescription: String { rawValue }
}

/// One test's stores: a unique prefix over the test servers, and a clean-up that drops every
/// database or schema with that prefix and the prefix's catalog rows.
final class PostgresTestStores: Sendable {
    let prefix: String
    let servers: [PostgresServer]
    let layout: PostgresStore.Layout

    /// - Parameter prefix: another `PostgresTestStores`' prefix, to reach its tenants through
    ///   other servers (a pooler); default: a new one.
    init(layout: PostgresStore.Layout, servers: [PostgresServer]? = nil, prefix: String? = nil) throws {
        self.prefix = prefix ?? PostgresTestServer.uniquePrefix()
        self.layout = layout
        self.servers = try servers ?? [PostgresTestServer.primary()]
    }

    /// The configuration of a store of this test; `minimumConnectionsPerPool` `nil` keeps the default.
    func configuration(
        placement: PostgresStore.PlacementPolicy = .fewestTenants, maximumConnectionsPerTenant: Int = 4, minimumConnectionsPerPool: Int? = nil
    ) -> PostgresStore.Configuration {
        var configuration = PostgresStore.Configuration(
            servers: servers, layout: layout, prefix: prefix, placement: placement,
            maximumConnectionsPerTenant: maximumConnectionsPerTenant, maximumSharedConnections: 10, logger: .silent
        )
        if let minimumConnectionsPerPool { configuration.minimumConnectionsPerPool = minimumConnectionsPerPool }
        return configuration
    }

    func makeStore(
        placement: PostgresStore.PlacementPolicy = .fewestTenants, maximumConnectionsPerTenant: Int = 4, minimumConnectionsPerPool: Int? = nil
    ) throws -> PostgresStore {
        try PostgresStore(configuration: configuration(
            placement: placement, maximumConnectionsPerTenant: maximumConnectionsPerTenant, minimumConnectionsPerPool: minimumConnectionsPerPool
        ))
    }

    /// Drops what the test left on every server.
    func cleanUp() async {
        for server in servers {
            do {
                try await Self.withConnection(to: server) { connection in
                    let query: PostgresQuery = if case .databasePerTenant = layout {
                        "SELECT datname::text FROM pg_database WHERE starts_with(datname, \(prefix))"
                    } else {
                        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, \(prefix))"
                    }
                    var names: [String] = []
                    for try await name in try await connection.query(query, logger: .silent).decode(String.self) { names.append(name) }
                    for name in names {
                        let drop = if case .databasePerTenant = layout {
                            "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"
                        } else {
                            "DROP SCHEMA IF EXISTS \"\(name)\" CASCADE"
                        }
                        try await connection.query(PostgresQuery(unsafeSQL: drop), logger: .silent)
                    }
                    var hasCatalog = false
                    for try await found in try await connection.query("SELECT to_regclass('tenanted.placements') IS NOT NULL", logger: .silent).decode(Bool.self) {
                        hasCatalog = found
                    }
                    if hasCatalog {
                        try await connection.query("DELETE FROM tenanted.placements WHERE store LIKE '%:' || \(prefix)", logger: .silent)
                    }
                    var hasTemplates = false
                    for try await found in try await connection.query("SELECT to_regclass('tenanted.schema_templates') IS NOT NULL", logger: .silent).decode(Bool.self) {
                        hasTemplates = found
                    }
                    if hasTemplates {
                        try await connection.query("DELETE FROM tenanted.schema_templates WHERE store LIKE '%:' || \(prefix)", logger: .silent)
                    }
                }
            } catch {
                Issue.record("cleaning up after the test on \(server.name): \(String(reflecting: error))")
            }
        }
    }

    /// ``TenantedTestSupport/PostgresActivity/query`` on `server`: for a stalled test's report; the
    /// error instead when the server cannot be asked.
    static func activity(on server: PostgresServer) async -> String {
        do {
            return try await withConnection(to: server) { connection in
                var lines = [PostgresActivity.header]
                for try await line in try await connection.query(PostgresQuery(unsafeSQL: PostgresActivity.query), logger: .silent).decode(String.self) {
                    lines.append(line)
                }
                return lines.count == 1 ? "(no backend busy)" : lines.joined(separator: "\n")
            }
        } catch {
            return "cannot read pg_stat_activity: \(String(reflecting: error))"
        }
    }

    /// Runs `body` on one plain connection to `server`'s database (or `database`).
    static func withConnection<Result: Sendable>(
        to server: PostgresServer, database: String? = nil, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var configuration = PostgresClient.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: database ?? server.database, tls: .disable
        )
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        let task = Task { await client.run() }
        defer { task.cancel() }
        return try await client.withConnection { try await body($0) }
    }
}
