import Logging
import PostgresNIO
public import Tenanted

/// A tenant schema in plain SQL on the PostgreSQL stores: named migrations applied in order, each
/// once, in the tenant's database or schema.
///
/// For apps without an ORM (the Fluent integration brings its own migrator). Each migration runs in
/// its own transaction (``PostgresTenantPool/withTransaction(isolation:_:)``) together with its row
/// in the `_tenanted_migrations` table, after taking a transaction-level advisory lock on that
/// table, so a migration is applied exactly once even when two processes migrate the same tenant at
/// once, and a failed one leaves the tenant at the previous migration. Behind PgBouncer's
/// transaction pooling this holds too: the lock lives and dies with the transaction.
///
/// The migrations one ``migrate(_:tenant:)`` applies form a **batch**; ``revertLastBatch(_:tenant:)``
/// runs the `revert` statements of the last batch, newest first, in one transaction.
///
/// ```swift
/// let schema = try PostgresMigrator([
///     .init(name: "create_notes", statements: ["CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)"],
///           revert: ["DROP TABLE notes"]),
/// ])
/// let tenancy = try Tenancy(store: store, migrator: schema)
/// ```
public struct PostgresMigrator: SQLTenantMigrator {
    public typealias Pool = PostgresTenantPool

    /// One named step of the schema.
    public typealias Migration = SQLMigration

    /// The migrations, in the order they apply.
    public let migrations: [Migration]

    /// Creates a migrator.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for an empty or duplicate name.
    public init(_ migrations: [Migration]) throws(TenantedError) {
        try SQLMigration.validate(migrations)
        self.migrations = migrations
    }

    public func appliedMigrationNames(on pool: PostgresTenantPool, tenant: TenantID) async throws -> Set<String> {
        try await pool.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass(\(Self.table)) IS NOT NULL", logger: Self.logger)
            var found = false
            for try await value in exists.decode(Bool.self) { found = value }
            guard found else { return [] }
            var names: Set<String> = []
            let rows = try await connection.query("SELECT name FROM \(unescaped: Self.table)", logger: Self.logger)
            for try await name in rows.decode(String.self) { names.insert(name) }
            return names
        }
    }

    public func migrate(_ pool: PostgresTenantPool, tenant: TenantID) async throws -> [String] {
        var names: [String] = []
        var batch: Int64?
        for migration in migrations {
            do {
                let applied: Int64? = try await pool.withTransaction { connection in
                    try await Self.lock(connection)
                    let done = try await connection.query("SELECT 1 FROM \(unescaped: Self.table) WHERE name = \(migration.name)", logger: Self.logger)
                    for try await _ in done { return nil }
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
                    }
                    var number = batch ?? 1
                    if batch == nil {
                        let rows = try await connection.query("SELECT COALESCE(MAX(batch), 0) + 1 FROM \(unescaped: Self.table)", logger: Self.logger)
                        for try await value in rows.decode(Int64.self) { number = value }
                    }
                    try await connection.query(
                        "INSERT INTO \(unescaped: Self.table) (name, applied_at, batch) VALUES (\(migration.name), now(), \(number))",
                        logger: Self.logger
                    )
                    return number
                }
                if let applied {
                    batch = applied
                    names.append(migration.name)
                }
            } catch let error as TenantedError where error.code == .tenantNotFound {
                throw error
            } catch {
                throw TenantedError(.migrationFailed, "migration '\(migration.name)' of tenant '\(tenant)' failed", tenant: tenant, underlying: error)
            }
        }
        return names
    }

    /// Reverts the last batch in one transaction: each migration's `revert` statements, newest
    /// first, and its row.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` (nothing changed) when a
    ///   migration of the batch has no `revert` or is not registered;
    ///   ``Tenanted/TenantedError/Code/migrationFailed`` when a statement fails (nothing changed either).
    public func revertLastBatch(_ pool: PostgresTenantPool, tenant: TenantID) async throws -> [String] {
        let migrations = self.migrations
        do {
            return try await pool.withTransaction { connection in
                try await Self.lock(connection)
                var names: Set<String> = []
                let rows = try await connection.query(
                    "SELECT name FROM \(unescaped: Self.table) WHERE batch = (SELECT MAX(batch) FROM \(unescaped: Self.table))",
                    logger: Self.logger
                )
                for try await name in rows.decode(String.self) { names.insert(name) }
                let steps = try SQLMigration.reverting(names, of: migrations, tenant: tenant)
                for step in steps {
                    for statement in step.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
                    }
                    try await connection.query("DELETE FROM \(unescaped: Self.table) WHERE name = \(step.name)", logger: Self.logger)
                }
                return steps.map(\.name)
            }
        } catch let error as TenantedError {
            throw error
        } catch {
            throw TenantedError(.migrationFailed, "rolling back tenant '\(tenant)' failed", tenant: tenant, underlying: error)
        }
    }

    /// Serializes migrations of one tenant across processes (the lock is the transaction's), and
    /// creates the log on first use.
    private static func lock(_ connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || \(table)))", logger: logger
        )
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS \(unescaped: table) (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL, batch BIGINT NOT NULL)",
            logger: logger
        )
    }

    static let logger = Logger(label: "tenanted.postgres.migrator")
}
