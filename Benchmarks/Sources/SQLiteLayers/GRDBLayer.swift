import BenchmarkSupport
import GRDB

/// (c) GRDB `DatabaseQueue` and (d) GRDB `DatabasePool`.
///
/// By default the PRAGMAs come from GRDB's own configuration, as an application would set them:
/// `journalMode = .wal` runs `PRAGMA journal_mode = WAL` and `PRAGMA synchronous = NORMAL`,
/// `busyMode = .timeout(5)` calls `sqlite3_busy_timeout(5000)` and `foreignKeysEnabled`
/// runs `PRAGMA foreign_keys = ON`. GRDB's WAL setup also writes and drops a throwaway table
/// whenever the file has no `-wal` yet (GRDB issue 102). With `plainPragmas` a `DatabaseQueue`
/// runs `BenchmarkSchema.pragmas` itself in `prepareDatabase` instead, skipping that write.
/// (A `DatabasePool` always runs GRDB's WAL setup.)
///
/// With `synchronous == false` every access goes through GRDB's async `read`/`write`
/// (a hop to GRDB's dispatch queue); with `synchronous == true` the blocking `read`/`write`
/// run on the calling thread, as a reference for what the hop costs.
struct GRDBLayer: Layer {
    enum Kind { case queue, pool }

    let kind: Kind
    let synchronous: Bool
    var plainPragmas = false

    var name: String {
        (kind == .queue ? "grdb-queue" : "grdb-pool")
            + (plainPragmas ? " (PRAGMAs)" : "")
            + (synchronous ? " (sync)" : "")
    }

    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        return configuration
    }

    static var plainPragmasConfiguration: Configuration {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            for pragma in BenchmarkSchema.pragmas {
                try db.execute(sql: pragma)
            }
        }
        return configuration
    }

    func open(_ path: String) throws -> any DatabaseWriter {
        switch kind {
        case .queue:
            try DatabaseQueue(
                path: path, configuration: plainPragmas ? Self.plainPragmasConfiguration : Self.configuration)
        case .pool: try DatabasePool(path: path, configuration: Self.configuration)
        }
    }

    func read<T: Sendable>(
        _ writer: any DatabaseWriter, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        synchronous ? try Self.blockingRead(writer, body) : try await writer.read(body)
    }

    func write<T: Sendable>(
        _ writer: any DatabaseWriter, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        synchronous ? try Self.blockingWrite(writer, body) : try await writer.write(body)
    }

    // Non-async wrappers, so that the blocking overloads are the ones chosen.
    private static func blockingRead<T>(_ writer: any DatabaseWriter, _ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    private static func blockingWrite<T>(_ writer: any DatabaseWriter, _ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    func coldOpen(path: String, taskID: Int) async throws {
        let writer = try open(path)
        do {
            let (names, task) = try await read(writer) { db in
                (try String.fetchAll(db, sql: Schema.readMigrations),
                 try TaskRow.fetchOne(db, sql: BenchmarkSchema.selectTask, arguments: [taskID]))
            }
            try writer.close()
            try verify(migrations: names, task: task, id: taskID)
        } catch {
            try? writer.close()
            throw error
        }
    }

    func createAndMigrate(path: String) async throws {
        let writer = try open(path)
        do {
            try await write(writer) { db in
                for statement in Schema.migrationDDL {
                    try db.execute(sql: statement)
                }
                for name in Schema.migrationNames {
                    try db.execute(sql: Schema.insertMigration, arguments: [name, BenchmarkSchema.timestamp])
                }
            }
            try writer.close()
        } catch {
            try? writer.close()
            throw error
        }
    }

    func openSession(path: String) async throws -> any Session {
        GRDBSession(layer: self, writer: try open(path))
    }
}

struct GRDBSession: Session {
    let layer: GRDBLayer
    let writer: any DatabaseWriter

    func selectTask(id: Int) async throws -> TaskRow? {
        try await layer.read(writer) { db in
            try TaskRow.fetchOne(db, sql: BenchmarkSchema.selectTask, arguments: [id])
        }
    }

    func insertTask(number: Int) async throws {
        try await layer.write(writer) { db in
            try db.execute(
                sql: Schema.insertTask,
                arguments: [1, "New task \(number)", BenchmarkSchema.taskBody, BenchmarkSchema.timestamp]
            )
        }
    }

    func close() async throws {
        try writer.close()
    }
}

/// GRDB's fast path: decode columns by name, no Codable decoder.
extension TaskRow: FetchableRecord {
    init(row: Row) throws {
        self.init(id: row["id"], title: row["title"], body: row["body"])
    }
}

/// Builds the seeded database file that the cold-open and hot-path workloads use.
enum Fixture {
    static func seed(path: String) throws {
        let queue = try DatabaseQueue(path: path, configuration: GRDBLayer.configuration)
        try queue.write { db in
            for statement in Schema.migrationDDL {
                try db.execute(sql: statement)
            }
            for name in Schema.migrationNames {
                try db.execute(sql: Schema.insertMigration, arguments: [name, BenchmarkSchema.timestamp])
            }
            try db.execute(sql: BenchmarkSchema.insertOwner, arguments: [BenchmarkSchema.timestamp])
            try db.execute(sql: BenchmarkSchema.insertProject, arguments: [BenchmarkSchema.timestamp])
            let insert = try db.makeStatement(sql: """
                INSERT INTO tasks (id, project_id, assignee_id, title, body, created_at)
                VALUES (?, 1, 1, ?, ?, ?)
                """)
            for id in 1...BenchmarkSchema.taskCount {
                try insert.execute(arguments: [id, "Task \(id)", BenchmarkSchema.taskBody, BenchmarkSchema.timestamp])
            }
        }
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try queue.close()
    }

    static func sqliteVersion() throws -> String {
        let queue = try DatabaseQueue()
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "?" }
    }
}
