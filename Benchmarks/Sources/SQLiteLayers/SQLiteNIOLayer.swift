import SQLiteNIO

/// (a) sqlite-nio's `SQLiteConnection` with its async `query(_:_:)`. Every call is one hop to
/// `NIOThreadPool.singleton`; statements are prepared anew on every call.
struct SQLiteNIOLayer: Layer {
    let name = "sqlite-nio"

    static func open(_ path: String) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            for pragma in Schema.pragmas {
                _ = try await connection.query(pragma)
            }
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func coldOpen(path: String, taskID: Int) async throws {
        let connection = try await Self.open(path)
        let session = SQLiteNIOSession(connection: connection)
        do {
            let names = try await connection.query(Schema.readMigrations).compactMap { $0.column("name")?.string }
            let task = try await session.selectTask(id: taskID)
            try await connection.close()
            try verify(migrations: names, task: task, id: taskID)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func createAndMigrate(path: String) async throws {
        let connection = try await Self.open(path)
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in Schema.migrationDDL {
                    _ = try await connection.query(statement)
                }
                for name in Schema.migrationNames {
                    _ = try await connection.query(Schema.insertMigration, [.text(name), .text(Schema.appliedAt)])
                }
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func openSession(path: String) async throws -> any Session {
        SQLiteNIOSession(connection: try await Self.open(path))
    }
}

struct SQLiteNIOSession: Session {
    let connection: SQLiteConnection

    func selectTask(id: Int) async throws -> TaskRow? {
        let rows = try await connection.query(Schema.selectTask, [.integer(id)])
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
            [.integer(1), .text("New task \(number)"), .text(Schema.taskBody), .text(Schema.appliedAt)]
        )
    }

    func close() async throws {
        try await connection.close()
    }
}
