import BenchmarkSupport
import SQLiteNIO

/// (a) sqlite-nio's `SQLiteConnection` with its async `query(_:_:)`. Every call is one hop to
/// `NIOThreadPool.singleton`; statements are prepared anew on every call.
struct SQLiteNIOLayer: Layer {
    let name = "sqlite-nio"

    func coldOpen(path: String, taskID: Int) async throws {
        let connection = try await SQLiteConnection.openApplyingPragmas(path: path)
        let session = SQLiteNIOSession(connection: connection)
        try await connection.closingOnError {
            let names = try await connection.query(Schema.readMigrations).compactMap { $0.column("name")?.string }
            let task = try await session.selectTask(id: taskID)
            try await connection.close()
            try verify(migrations: names, task: task, id: taskID)
        }
    }

    func createAndMigrate(path: String) async throws {
        let connection = try await SQLiteConnection.openApplyingPragmas(path: path)
        try await connection.closingOnError {
            try await connection.immediateTransaction {
                for statement in Schema.migrationDDL {
                    _ = try await connection.query(statement)
                }
                for name in Schema.migrationNames {
                    _ = try await connection.query(Schema.insertMigration, [.text(name), .text(BenchmarkSchema.timestamp)])
                }
            }
            try await connection.close()
        }
    }

    func openSession(path: String) async throws -> any Session {
        SQLiteNIOSession(connection: try await SQLiteConnection.openApplyingPragmas(path: path))
    }
}

struct SQLiteNIOSession: Session {
    let connection: SQLiteConnection

    func selectTask(id: Int) async throws -> TaskRow? {
        let rows = try await connection.query(BenchmarkSchema.selectTask, [.integer(id)])
        guard let row = rows.first,
              let id = row.column("id")?.integer,
              let title = row.column("title")?.string,
              let body = row.column("body")?.string
        else { return nil }
        return TaskRow(id: id, title: title, body: body)
    }

    func insertTask(number: Int) async throws {
        _ = try await connection.query(
            Schema.insertTask,
            [.integer(1), .text("New task \(number)"), .text(BenchmarkSchema.taskBody), .text(BenchmarkSchema.timestamp)]
        )
    }

    func close() async throws {
        try await connection.close()
    }
}
