import BenchmarkSupport

/// The SQL of `sqlite-layers` on top of `BenchmarkSchema`, shared by every layer so that all of
/// them do exactly the same work.
enum Schema {
    static let createMigrationTable = "CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"

    /// Applied in one transaction by the create + migrate workload: the `_migrations` table, then
    /// every step of `BenchmarkSchema.migrations` in order.
    static let migrationDDL = [createMigrationTable] + BenchmarkSchema.migrations.flatMap(\.statements)

    static let migrationNames = BenchmarkSchema.migrations.map(\.name)

    static let insertMigration = "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)"
    static let readMigrations = "SELECT name FROM _migrations"
    static let insertTask = "INSERT INTO tasks (project_id, title, body, created_at) VALUES (?, ?, ?, ?)"
}

/// The row read by the primary-key select, decoded by every layer.
struct TaskRow: Sendable, Decodable, Equatable {
    var id: Int
    var title: String
    var body: String
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
