import SQLiteNIO
import Tenanted
import TenantedSQLite

/// A tiny migrator written in plain SQL: named migrations applied in order, each recorded in a
/// `_migrations(name TEXT PRIMARY KEY)` table in the same transaction as its statements.
struct SQLMigrator: TenantMigrator {
    typealias Pool = SQLitePool

    struct Migration: Sendable {
        var name: String
        var statements: [String]
    }

    var migrations: [Migration]

    init(_ migrations: [Migration]) {
        self.migrations = migrations
    }

    /// The migrations of the test schema: `notes`, then `tags`.
    static let base = SQLMigrator([
        Migration(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"]),
        Migration(name: "002_tags", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"]),
    ])

    /// ``base`` plus one more migration.
    static let extended = SQLMigrator(
        base.migrations + [
            Migration(name: "003_note_tags", statements: ["ALTER TABLE notes ADD COLUMN tag_id INTEGER REFERENCES tags(id)"])
        ]
    )

    func pendingMigrations(on pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        let applied = try await pool.read { connection in try await Self.applied(on: connection) }
        return migrations.map(\.name).filter { !applied.contains($0) }
    }

    func migrate(_ pool: SQLitePool, tenant: TenantID) async throws -> [String] {
        try await pool.write { connection in
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY)")
            let applied = try await Self.applied(on: connection)
            var names: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    try await connection.execute(migration.statements)
                    _ = try await connection.query("INSERT INTO _migrations (name) VALUES (?)", [.text(migration.name)])
                    _ = try await connection.query("COMMIT")
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw error
                }
                names.append(migration.name)
            }
            return names
        }
    }

    private static func applied(on connection: SQLiteConnection) async throws -> Set<String> {
        let table = try await connection.scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
        guard table != nil else { return [] }
        return Set(try await connection.strings("SELECT name FROM _migrations"))
    }
}
