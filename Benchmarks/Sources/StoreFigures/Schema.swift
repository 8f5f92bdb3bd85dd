import SQLiteNIO
import Tenanted
import TenantedSQLite

/// The SQL both sides run: the tenant schema of `sqlite-layers` (Sources/SQLiteLayers/Schema.swift),
/// split into the five migrations a Tenanted app would register, and the seeded rows.
enum Schema {
    /// The PRAGMAs `SQLiteStore` applies to every connection (readers add `query_only`); the
    /// baseline applies the same four, `busy_timeout` first.
    static let pragmas = [
        "PRAGMA busy_timeout = 5000",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
    ]

    /// Five tables with their indexes, one migration each, in the order they apply.
    static let migrations: [(name: String, statements: [String])] = [
        ("0001_users", [
            """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
                created_at TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX users_email ON users (email)",
        ]),
        ("0002_projects", [
            """
            CREATE TABLE projects (id INTEGER PRIMARY KEY,
                owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE INDEX projects_owner ON projects (owner_id)",
        ]),
        ("0003_tasks", [
            """
            CREATE TABLE tasks (id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
                assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL)
            """,
            "CREATE INDEX tasks_project ON tasks (project_id)",
            "CREATE INDEX tasks_assignee ON tasks (assignee_id)",
        ]),
        ("0004_comments", [
            """
            CREATE TABLE comments (id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                author_id INTEGER NOT NULL REFERENCES users (id),
                body TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE INDEX comments_task ON comments (task_id)",
        ]),
        ("0005_tags", [
            """
            CREATE TABLE tags (id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE, label TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX tags_task_label ON tags (task_id, label)",
        ]),
    ]

    static func migrator() throws -> SQLiteMigrator {
        try SQLiteMigrator(migrations.map { SQLiteMigrator.Migration(name: $0.name, statements: $0.statements) })
    }

    /// What the baseline does by hand for the migration bookkeeping `SQLiteMigrator` does:
    /// the same table, and one row per migration.
    static let createMigrationTable =
        "CREATE TABLE \(SQLiteMigrator.table) (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    static let recordMigration =
        "INSERT INTO \(SQLiteMigrator.table) (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    static let readMigrations = "SELECT name FROM \(SQLiteMigrator.table)"

    static let selectTask = "SELECT id, title, body FROM tasks WHERE id = ?"

    /// Rows in `tasks` of every seeded tenant; ids are 1...taskCount.
    static let taskCount = 1_000
    static let createdAt = "2026-01-01T00:00:00Z"

    /// Fills a freshly migrated tenant: one user, one project, `taskCount` tasks, one transaction.
    static func seed(_ connection: SQLiteConnection) async throws {
        _ = try await connection.query("BEGIN IMMEDIATE")
        do {
            _ = try await connection.query(
                "INSERT INTO users (id, email, name, created_at) VALUES (1, 'owner@example.com', 'Owner', ?)",
                [.text(createdAt)])
            _ = try await connection.query(
                "INSERT INTO projects (id, owner_id, name, created_at) VALUES (1, 1, 'Project', ?)",
                [.text(createdAt)])
            _ = try await connection.query(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO tasks (id, project_id, title, body, created_at)
                SELECT i, 1, 'Task ' || i, ?, ? FROM n
                """,
                [.integer(taskCount), .text(String(repeating: "Lorem ipsum dolor sit amet. ", count: 8)), .text(createdAt)])
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    /// The primary-key select both sides time, decoded the same way, checked against the seed.
    static func selectTask(_ connection: SQLiteConnection, id: Int) async throws {
        let rows = try await connection.query(selectTask, [.integer(id)])
        guard let row = rows.first,
              row.column("id")?.integer == id,
              row.column("title")?.string == "Task \(id)",
              row.column("body")?.string != nil
        else { throw BenchmarkError("task \(id) was not read back") }
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
