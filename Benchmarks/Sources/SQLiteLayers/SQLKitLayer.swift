import BenchmarkSupport
import SQLKit
import SQLiteKit
import SQLiteNIO

/// (b) SQLiteKit's `SQLDatabase` over an sqlite-nio connection: SQLKit's query builder with
/// Codable decoding for reads and inserts, raw `SQLQueryString` for PRAGMAs and DDL.
struct SQLKitLayer: Layer {
    let name = "sqlite-kit/sql-kit"

    static func open(_ path: String) async throws -> (SQLiteConnection, any SQLDatabase) {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        let database = connection.sql()
        try await connection.closingOnError {
            for pragma in BenchmarkSchema.pragmas {
                try await database.raw("\(unsafeRaw: pragma)").run()
            }
        }
        return (connection, database)
    }

    func coldOpen(path: String, taskID: Int) async throws {
        let (connection, database) = try await Self.open(path)
        try await connection.closingOnError {
            let names = try await database.select().column("name").from("_migrations")
                .all(decodingColumn: "name", as: String.self)
            let task = try await SQLKitSession(connection: connection, database: database).selectTask(id: taskID)
            try await connection.close()
            try verify(migrations: names, task: task, id: taskID)
        }
    }

    func createAndMigrate(path: String) async throws {
        let (connection, database) = try await Self.open(path)
        try await connection.closingOnError {
            try await immediateTransaction(execute: { try await database.raw("\(unsafeRaw: $0)").run() }) {
                for statement in Schema.migrationDDL {
                    try await database.raw("\(unsafeRaw: statement)").run()
                }
                for name in Schema.migrationNames {
                    try await database.insert(into: "_migrations")
                        .columns("name", "applied_at")
                        .values(name, BenchmarkSchema.timestamp)
                        .run()
                }
            }
            try await connection.close()
        }
    }

    func openSession(path: String) async throws -> any Session {
        let (connection, database) = try await Self.open(path)
        return SQLKitSession(connection: connection, database: database)
    }
}

struct SQLKitSession: Session {
    let connection: SQLiteConnection
    let database: any SQLDatabase

    func selectTask(id: Int) async throws -> TaskRow? {
        try await database.select()
            .columns("id", "title", "body")
            .from("tasks")
            .where("id", .equal, id)
            .first(decoding: TaskRow.self)
    }

    func insertTask(number: Int) async throws {
        try await database.insert(into: "tasks")
            .columns("project_id", "title", "body", "created_at")
            .values(1, "New task \(number)", BenchmarkSchema.taskBody, BenchmarkSchema.timestamp)
            .run()
    }

    func close() async throws {
        try await connection.close()
    }
}
