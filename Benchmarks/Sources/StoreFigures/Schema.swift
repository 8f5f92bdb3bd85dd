import BenchmarkSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite

/// The SQL both sides run: `BenchmarkSchema`, split into the five migrations a Tenanted app would
/// register, and the seeded rows. `SQLiteStore` applies `BenchmarkSchema.pragmas` to every
/// connection (readers add `query_only`); the baseline applies the same four, `busy_timeout` first.
enum Schema {
    static func migrator() throws -> SQLiteMigrator {
        try SQLiteMigrator(BenchmarkSchema.migrations.map {
            SQLiteMigrator.Migration(name: $0.name, statements: $0.statements)
        })
    }

    /// What the baseline does by hand for the migration bookkeeping `SQLiteMigrator` does:
    /// the same table, and one row per migration.
    static let createMigrationTable =
        "CREATE TABLE \(SQLiteMigrator.table) (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    static let recordMigration =
        "INSERT INTO \(SQLiteMigrator.table) (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    static let readMigrations = "SELECT name FROM \(SQLiteMigrator.table)"

    /// Fills a freshly migrated tenant: one user, one project, `taskCount` tasks, one transaction.
    static func seed(_ connection: SQLiteConnection, taskCount: Int = BenchmarkSchema.taskCount) async throws {
        let timestamp = SQLiteData.text(BenchmarkSchema.timestamp)
        try await connection.immediateTransaction {
            _ = try await connection.query(BenchmarkSchema.insertOwner, [timestamp])
            _ = try await connection.query(BenchmarkSchema.insertProject, [timestamp])
            _ = try await connection.query(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO tasks (id, project_id, title, body, created_at)
                SELECT i, 1, 'Task ' || i, ?, ? FROM n
                """,
                [.integer(taskCount), .text(BenchmarkSchema.taskBody), timestamp])
        }
    }

    /// The primary-key select both sides time, decoded the same way, checked against the seed.
    static func selectTask(_ connection: SQLiteConnection, id: Int) async throws {
        let rows = try await connection.query(BenchmarkSchema.selectTask, [.integer(id)])
        guard let row = rows.first,
              row.column("id")?.integer == id,
              row.column("title")?.string == "Task \(id)",
              row.column("body")?.string != nil
        else { throw BenchmarkError("task \(id) was not read back") }
    }
}
