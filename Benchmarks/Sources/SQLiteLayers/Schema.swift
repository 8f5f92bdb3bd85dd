/// The SQL shared by every layer, so that all of them do exactly the same work.
enum Schema {
    /// Per-connection settings. `busy_timeout` comes first on purpose: sqlite-nio installs a busy
    /// handler that retries forever, and the other PRAGMAs could already meet a lock.
    static let pragmas = [
        "PRAGMA busy_timeout = 5000",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
    ]

    /// Applied in one transaction by the create + migrate workload.
    static let migrationDDL = [
        "CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)",
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
            created_at TEXT NOT NULL)
        """,
        "CREATE UNIQUE INDEX users_email ON users (email)",
        """
        CREATE TABLE projects (id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            name TEXT NOT NULL, created_at TEXT NOT NULL)
        """,
        "CREATE INDEX projects_owner ON projects (owner_id)",
        """
        CREATE TABLE tasks (id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
            title TEXT NOT NULL, body TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL)
        """,
        "CREATE INDEX tasks_project ON tasks (project_id)",
        "CREATE INDEX tasks_assignee ON tasks (assignee_id)",
        """
        CREATE TABLE comments (id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
            author_id INTEGER NOT NULL REFERENCES users (id),
            body TEXT NOT NULL, created_at TEXT NOT NULL)
        """,
        "CREATE INDEX comments_task ON comments (task_id)",
        """
        CREATE TABLE tags (id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE, label TEXT NOT NULL)
        """,
        "CREATE UNIQUE INDEX tags_task_label ON tags (task_id, label)",
    ]

    static let migrationNames = ["0001_users", "0002_projects", "0003_tasks", "0004_comments", "0005_tags"]
    static let appliedAt = "2026-01-01T00:00:00Z"

    static let insertMigration = "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)"
    static let readMigrations = "SELECT name FROM _migrations"
    static let selectTask = "SELECT id, title, body FROM tasks WHERE id = ?"
    static let insertTask = "INSERT INTO tasks (project_id, title, body, created_at) VALUES (?, ?, ?, ?)"

    /// Rows in `tasks` of every seeded file; ids are 1...taskCount.
    static let taskCount = 1_000
    static let taskBody = String(repeating: "Lorem ipsum dolor sit amet. ", count: 8)
}

/// The row read by the primary-key select, decoded by every layer.
struct TaskRow: Sendable, Decodable, Equatable {
    var id: Int
    var title: String
    var body: String
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Throws unless a layer read back what the seeded files hold.
func verify(migrations: [String], task: TaskRow?, id: Int) throws {
    guard migrations.count == Schema.migrationNames.count else {
        throw BenchmarkError("expected \(Schema.migrationNames.count) migrations, read \(migrations.count)")
    }
    try verify(task: task, id: id)
}

func verify(task: TaskRow?, id: Int) throws {
    guard let task, task.id == id, task.title == "Task \(id)" else {
        throw BenchmarkError("task \(id) not read back correctly: \(String(describing: task))")
    }
}
