import MariaDBClient
public import Tenanted

/// A tenant schema in plain SQL on the MySQL store: named migrations applied in order, each once,
/// in the tenant's database.
///
/// For apps without an ORM (the Fluent integration brings its own migrator). MySQL and MariaDB
/// commit every DDL statement on its own, so a migration cannot be one transaction as it is on
/// SQLite and PostgreSQL: a migration whose statement fails leaves the statements before it applied
/// and is **not** recorded (write each migration so it can run again, or as one statement). What the
/// migrator does guarantee: migrations of one tenant never run at once in two processes (a
/// `GET_LOCK` on the tenant's database, held for the whole run), and a migration is recorded in the
/// `_tenanted_migrations` table only after all its statements succeeded.
///
/// The migrations one ``migrate(_:tenant:)`` applies form a **batch**; ``revertLastBatch(_:tenant:)``
/// runs the `revert` statements of the last batch, newest first.
///
/// ```swift
/// let schema = try MySQLMigrator([
///     .init(name: "create_notes", statements: ["CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, body TEXT)"],
///           revert: ["DROP TABLE notes"]),
/// ])
/// let tenancy = try Tenancy(store: try MySQLStore(url: "mysql://app:secret@127.0.0.1:3306/app"), migrator: schema)
/// ```
public struct MySQLMigrator: SQLTenantMigrator {
    public typealias Pool = MySQLTenantPool

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

    public func appliedMigrationNames(on pool: MySQLTenantPool, tenant: TenantID) async throws -> Set<String> {
        try await pool.withConnection { try await Self.applied($0) }
    }

    public func migrate(_ pool: MySQLTenantPool, tenant: TenantID) async throws -> [String] {
        let migrations = self.migrations
        return try await Self.locked(pool, tenant: tenant, failure: "migrating tenant '\(tenant)'") { connection in
            try await Self.createTable(connection)
            let applied = try await Self.applied(connection)
            var names: [String] = []
            var batch: Int64?
            for migration in migrations where !applied.contains(migration.name) {
                do {
                    for statement in migration.statements { _ = try await connection.query(statement) }
                    if batch == nil {
                        batch = try await connection.query("SELECT COALESCE(MAX(batch), 0) + 1 AS next FROM \(Self.table)").rows.first?["next"]?.int64 ?? 1
                    }
                    _ = try await connection.query(
                        "INSERT INTO \(Self.table) (name, applied_at, batch) VALUES (?, NOW(6), ?)", [.text(migration.name), .int(batch ?? 1)]
                    )
                } catch {
                    throw await Self.failure(error, pool, "migration '\(migration.name)' of tenant '\(tenant)' failed")
                }
                names.append(migration.name)
            }
            return names
        }
    }

    /// Reverts the last batch: each migration's `revert` statements, newest first, and its row.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` (nothing changed) when a
    ///   migration of the batch has no `revert` or is not registered;
    ///   ``Tenanted/TenantedError/Code/migrationFailed`` when a statement fails.
    public func revertLastBatch(_ pool: MySQLTenantPool, tenant: TenantID) async throws -> [String] {
        let migrations = self.migrations
        return try await Self.locked(pool, tenant: tenant, failure: "rolling back tenant '\(tenant)'") { connection in
            try await Self.createTable(connection)
            let rows = try await connection.query("SELECT name FROM \(Self.table) WHERE batch = (SELECT MAX(batch) FROM \(Self.table))").rows
            let steps = try SQLMigration.reverting(Set(rows.compactMap { $0["name"]?.string }), of: migrations, tenant: tenant)
            for step in steps {
                do {
                    for statement in step.statements { _ = try await connection.query(statement) }
                    _ = try await connection.query("DELETE FROM \(Self.table) WHERE name = ?", [.text(step.name)])
                } catch {
                    throw await Self.failure(error, pool, "rolling back migration '\(step.name)' of tenant '\(tenant)' failed")
                }
            }
            return steps.map(\.name)
        }
    }

    /// Runs `body` on one connection holding the tenant's migration lock, a `GET_LOCK` named after
    /// the tenant's database (hashed: lock names are limited to 64 characters).
    private static func locked<Result: Sendable>(
        _ pool: MySQLTenantPool, tenant: TenantID, failure: String, _ body: (MariaDBConnection) async throws -> Result
    ) async throws -> Result {
        let name = "SELECT GET_LOCK(CONCAT('tenanted.migrate.', MD5(DATABASE())), 60) AS got"
        return try await pool.withConnection { connection in
            let got = try await connection.query(name).rows.first?["got"]?.int64
            guard got == 1 else {
                throw TenantedError(.storeFailure, "\(failure): another process held its migration lock for 60 seconds", tenant: tenant)
            }
            do {
                let result = try await body(connection)
                _ = try await connection.query("DO RELEASE_LOCK(CONCAT('tenanted.migrate.', MD5(DATABASE())))")
                return result
            } catch {
                // A broken connection lost the lock with its session; else release it.
                if !connection.isBroken { _ = try? await connection.query("DO RELEASE_LOCK(CONCAT('tenanted.migrate.', MD5(DATABASE())))") }
                throw error
            }
        }
    }

    /// `tenantNotFound` when the tenant was destroyed meanwhile, else `migrationFailed` with `message`.
    private static func failure(_ error: any Error, _ pool: MySQLTenantPool, _ message: String) async -> TenantedError {
        let translated = await pool.translate(error)
        if let gone = translated as? TenantedError, gone.code == .tenantNotFound { return gone }
        return TenantedError(.migrationFailed, message, tenant: pool.tenant, underlying: translated)
    }

    private static func createTable(_ connection: MariaDBConnection) async throws {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS \(Self.table) (name VARCHAR(255) PRIMARY KEY, applied_at DATETIME(6) NOT NULL, batch BIGINT NOT NULL) ENGINE = InnoDB"
        )
    }

    private static func applied(_ connection: MariaDBConnection) async throws -> Set<String> {
        let exists = try await connection.query(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", [.text(table)]
        )
        guard exists.rows.first?["n"]?.int64 ?? 0 > 0 else { return [] }
        return Set(try await connection.query("SELECT name FROM \(Self.table)").rows.compactMap { $0["name"]?.string })
    }
}
