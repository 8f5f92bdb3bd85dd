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
/// ```swift
/// let schema = try SQLiteMigrator([
///     .init(name: "create_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"]),
/// ])
/// let tenancy = try Tenancy(store: try SQLiteStore(), migrator: schema)
/// ```
public struct SQLiteMigrator: TenantMigrator {
    public typealias Pool = SQLitePool

    /// One named step of the schema.
    public struct Migration: Sendable {
        /// The migration's name, recorded once applied. Never rename an applied migration.
        public var name: String
        /// The SQL statements, run in order in one transaction.
        public var statements: [String]

        /// Creates a migration.
        public init(name: String, statements: [String]) {
            self.name = name
            self.statements = statements
        }
    }

    /// The table that records applied migrations.
    public static let table = "_tenanted_migrations"

    /// The migrations, in the order they apply.
    public let migrations: [Migration]

    /// Creates a migrator.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for an empty or duplicate name.
    public init(_ migrations: [Migration]) throws(TenantedError) {
        var seen: Set<String> = []
        for migration in migrations {
            if migration.name.isEmpty {
                throw TenantedError(.invalidConfiguration, "a migration has an empty name")
            }
            if !seen.insert(migration.name).inserted {
                throw TenantedError(.invalidConfiguration, "two migrations are named '\(migration.name)'")
            }
        }
        self.migrations = migrations
    }

    /// Every migration's name, in order: tenants are created from a migrated template.
    public var registeredMigrations: [String]? { migrations.map(\.name) }

    public func pendingMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        // The writer: a pool's open has just opened it, so a cold open costs one connection, not two.
        let applied = try await pool.write { try await Self.applied(on: $0) }
        return migrations.map(\.name).filter { !applied.contains($0) }
    }

    public func appliedMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        let applied = try await pool.write { try await Self.applied(on: $0) }
        return migrations.map(\.name).filter { applied.contains($0) }
    }

    public func migrate(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await pool.write { connection in
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS \(Self.table) (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            var names: [String] = []
            for migration in migrations {
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    let done = try await connection.query("SELECT 1 FROM \(Self.table) WHERE name = ?", [.text(migration.name)])
                    if done.isEmpty {
                        for statement in migration.statements { _ = try await connection.query(statement) }
                        _ = try await connection.query(
                            "INSERT INTO \(Self.table) (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                            [.text(migration.name)]
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

    private static func applied(on connection: SQLiteConnection) async throws -> Set<String> {
        let exists = try await connection.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(table)]
        )
        if exists.isEmpty { return [] }
        return Set(try await connection.query("SELECT name FROM \(table)").compactMap { $0.columns.first?.data.string })
    }
}
