/// The schema both executables build, so that every layer and both sides of every figure do
/// exactly the same work: `sqlite-layers` runs all of `migrations` in one transaction, after its
/// own `_migrations` table; `store-figures` registers each one as an `SQLiteMigrator` migration.
public enum BenchmarkSchema {
    /// Per-connection settings. `busy_timeout` comes first on purpose: sqlite-nio installs a busy
    /// handler that retries forever, and the other PRAGMAs could already meet a lock.
    public static let pragmas = [
        "PRAGMA busy_timeout = 5000",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
    ]

    /// One named step of the schema: a table and its indexes.
    public struct Migration: Sendable {
        public var name: String
        public var statements: [String]
    }

    /// Five tables with their indexes, one migration each, in the order they apply.
    public static let migrations = [
        Migration(name: "0001_users", statements: [
            """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
                created_at TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX users_email ON users (email)",
        ]),
        Migration(name: "0002_projects", statements: [
            """
            CREATE TABLE projects (id INTEGER PRIMARY KEY,
                owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE INDEX projects_owner ON projects (owner_id)",
        ]),
        Migration(name: "0003_tasks", statements: [
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
        Migration(name: "0004_comments", statements: [
            """
            CREATE TABLE comments (id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                author_id INTEGER NOT NULL REFERENCES users (id),
                body TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE INDEX comments_task ON comments (task_id)",
        ]),
        Migration(name: "0005_tags", statements: [
            """
            CREATE TABLE tags (id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE, label TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX tags_task_label ON tags (task_id, label)",
        ]),
    ]

    /// The migration the migrate-all figures apply to tenants that have all of `migrations`: a
    /// column and an index on `tasks`.
    public static let nextMigration = Migration(name: "0006_task_priority", statements: [
        "ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX tasks_priority ON tasks (priority)",
    ])

    /// The seeded owner and project (id 1 each); one parameter, `timestamp`.
    public static let insertOwner =
        "INSERT INTO users (id, email, name, created_at) VALUES (1, 'owner@example.com', 'Owner', ?)"
    public static let insertProject =
        "INSERT INTO projects (id, owner_id, name, created_at) VALUES (1, 1, 'Project', ?)"

    /// The primary-key select every workload and figure times; one parameter, the task id.
    public static let selectTask = "SELECT id, title, body FROM tasks WHERE id = ?"

    /// Rows in `tasks` of every seeded file; ids are 1...taskCount, titles "Task <id>".
    public static let taskCount = 1_000
    public static let taskBody = String(repeating: "Lorem ipsum dolor sit amet. ", count: 8)
    /// The `created_at` (and `applied_at`) of every row the benchmarks write themselves.
    public static let timestamp = "2026-01-01T00:00:00Z"
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
