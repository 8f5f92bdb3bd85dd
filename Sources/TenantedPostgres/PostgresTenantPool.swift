import FluentKit
import Logging
public import PostgresNIO
public import Tenanted

/// One tenant's open pool on its PostgreSQL server: what ``PostgresStore/open(_:)`` returns and
/// ``Tenanted/Tenancy`` keeps in its registry.
///
/// With a pool per tenant (database per tenant, or schema per tenant in the default mode) it owns a
/// `PostgresClient` whose connections reach only this tenant's database or schema. In
/// ``PostgresStore/SchemaMode/sharedPool`` it borrows its server's shared client, and every use
/// runs in a transaction that starts with `SET LOCAL search_path`.
public final class PostgresTenantPool: Sendable {
    /// The tenant this pool serves.
    public let tenant: TenantID
    /// The server the tenant is on.
    public let server: String
    /// The tenant's database (database per tenant) or the database holding its schema.
    public let database: String
    /// The tenant's schema: `public` for database per tenant.
    public let schema: String
    /// The client: this tenant's own, or (shared pool) its server's.
    let client: PostgresClient
    /// Runs `client` while the pool is open; `nil` for a borrowed, shared client.
    let running: Task<Void, Never>?
    /// The stock Fluent PostgreSQL driver over `client`.
    let driver: any DatabaseDriver
    /// Whether each use must begin with `SET LOCAL search_path` (shared pool).
    let setsLocalSearchPath: Bool

    init(
        tenant: TenantID, server: String, database: String, schema: String,
        client: PostgresClient, running: Task<Void, Never>?, driver: any DatabaseDriver, setsLocalSearchPath: Bool
    ) {
        self.tenant = tenant
        self.server = server
        self.database = database
        self.schema = schema
        self.client = client
        self.running = running
        self.driver = driver
        self.setsLocalSearchPath = setsLocalSearchPath
    }

    /// Lends a connection to this tenant's data for `body`.
    ///
    /// With a pool per tenant the connection's `search_path` was set when it connected; with a shared
    /// pool `body` runs inside a transaction that began with `SET LOCAL search_path`, so it commits when
    /// `body` returns and rolls back when it throws.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if setsLocalSearchPath {
            return try await client.withTransaction(logger: Self.logger, isolation: isolation) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(PostgresSQL.identifier(schema))"), logger: Self.logger)
                return try await body(connection)
            }
        }
        return try await client.withConnection(isolation: isolation, body)
    }

    /// Stops the pool's own client (a shared client stays up): its connections close.
    func close() async {
        guard let running else { return }
        running.cancel()
        await running.value
    }

    static let logger = Logger(label: "tenanted.postgres.pool")
}
