import SQLiteNIO
public import Tenanted

/// A tenant schema in plain SQL: named migrations applied in order, each once.
///
/// For apps on SQLite without an ORM (the Fluent integration brings its own migrator). Each
/// migration runs in its own `BEGIN IMMEDIATE` transaction together with the row that records it in
/// the `_tenanted_migrations` table, and re-checks that table inside the transaction, so a migration
/// is applied exactly once even when two processes migrate the same tenant at the same time, and a
/// migration that fails leaves the tenant at the previous one.
///
/// The migrations one ``migrate(_:tenant:)`` applies form a **batch**; ``revertLastBatch(_:tenant:)``
/// runs the `revert` statements of the last batch's migrations, newest first, in one transaction.
///
/// ```swift
/// let schema = try SQLiteMigrator([
///     .init(name: "create_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"],
///           revert: ["DROP TABLE notes"]),
/// ])
/// let tenancy = try Tenancy(store: try SQLiteStore(), migrator: schema)
/// ```
public struct SQLiteMigrator: SQLTenantMigrator {
    public typealias Pool = SQLitePool

    /// One named step of the schema.
    public typealias Migration = SQLMigration

    /// The migrations, in the order they apply.
    public let migrations: [Migration]

    /// Creates a migrator.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for an empty or duplicate name.
    public init(_ migrations: [Migration]) throws(TenantedError) {
        try SQLMigration.validate(migrations)
        self.migrations = migrations
    }

    /// Every migration's name, in order: tenants are created from a migrated template.
    public var registeredMigrations: [String]? { migrations.map(\.name) }

    public func appliedMigrationNames(on pool: SQLitePool, tenant: TenantID) async throws -> Set<String> {
        // A read: right after a pool's open its writer is open and idle, and a read takes it (one
        // connection for a cold open, not two) without the write guard's lock and checks.
        try await pool.read { try await Self.applied(on: $0) }
    }

    public func migrate(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await pool.write { connection in
            try await Self.createTable(on: connection)
            var names: [String] = []
            var batch: Int?
            for migration in migrations {
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    let done = try await connection.query("SELECT 1 FROM \(Self.table) WHERE name = ?", [.text(migration.name)])
                    if done.isEmpty {
                        for statement in migration.statements { _ = try await connection.query(statement) }
                        if batch == nil {
                            let last = try await connection.query("SELECT COALESCE(MAX(batch), 0) FROM \(Self.table)")
                            batch = (last.first?.columns.first?.data.integer ?? 0) + 1
                        }
                        _ = try await connection.query(
                            "INSERT INTO \(Self.table) (name, applied_at, batch) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)",
                            [.text(migration.name), .integer(batch ?? 1)]
                        )
                        names.append(migration.name)
                    }
                    _ = try await connection.query("COMMIT")
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw TenantedError(
                        .migrationFailed, "migration '\(migration.name)' of tenant '\(tenant)' failed",
                        tenant: tenant, underlying: error
                    )
                }
            }
            return names
        }
    }

    /// Reverts the last batch in one `BEGIN IMMEDIATE` transaction: each migration's `revert`
    /// statements, newest first, and its row.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` (nothing changed) when a migration of the
    ///   batch has no `revert` or is not registered; ``TenantedError/Code/migrationFailed`` when a
    ///   statement fails (nothing changed either).
    public func revertLastBatch(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await pool.write { connection in
            try await Self.createTable(on: connection)
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                let rows = try await connection.query(
                    "SELECT name FROM \(Self.table) WHERE batch = (SELECT MAX(batch) FROM \(Self.table))"
                )
                let names = Set(rows.compactMap { $0.columns.first?.data.string })
                let steps = try SQLMigration.reverting(names, of: migrations, tenant: tenant)
                for step in steps {
                    do {
                        for statement in step.statements { _ = try await connection.query(statement) }
                        _ = try await connection.query("DELETE FROM \(Self.table) WHERE name = ?", [.text(step.name)])
                    } catch {
                        throw TenantedError(
                            .migrationFailed, "reverting migration '\(step.name)' of tenant '\(tenant)' failed",
                            tenant: tenant, underlying: error
                        )
                    }
                }
                _ = try await connection.query("COMMIT")
                return steps.map(\.name)
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    /// Creates the migration log, or adds the `batch` column to a log written before batches existed
    /// (its rows then form batch 1).
    private static func createTable(on connection: SQLiteConnection) async throws {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS \(table) (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, batch INTEGER NOT NULL DEFAULT 1)"
        )
        let column = try await connection.query("SELECT 1 FROM pragma_table_info('\(table)') WHERE name = 'batch'")
        if column.isEmpty {
            _ = try await connection.query("ALTER TABLE \(table) ADD COLUMN batch INTEGER NOT NULL DEFAULT 1")
        }
    }

    /// The names in the migration log; none when there is no log yet.
    ///
    /// One query when the log exists (every open of a migrated tenant): the log is read at once, and
    /// only when that fails is `sqlite_master` asked whether the log is there at all, so a missing
    /// log means nothing applied while any other failure is still thrown.
    private static func applied(on connection: SQLiteConnection) async throws -> Set<String> {
        do {
            return Set(try await connection.query("SELECT name FROM \(table)").compactMap { $0.columns.first?.data.string })
        } catch {
            let exists = try await connection.query(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(table)]
            )
            if exists.isEmpty { return [] }
            throw error
        }
    }
}
