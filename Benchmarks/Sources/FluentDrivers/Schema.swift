import BenchmarkSupport
import FluentKit
import SQLKit
import SQLiteNIO

/// The model both drivers read and write: a table of notes, integer primary key and a title.
final class Note: Model, @unchecked Sendable {
    static let schema = "notes"

    @ID(custom: .id) var id: Int?
    @Field(key: "title") var title: String

    init() {}

    init(title: String) {
        self.title = title
    }
}

/// The tenants' one migration. Raw SQL, so that the table is the same whichever driver reads it
/// (the stock side works on copies of the tenants' files anyway).
struct CreateNotes: AsyncMigration {
    var name: String { "CreateNotes" }

    func prepare(on database: any Database) async throws {
        try await Schema.sql(database).raw("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").run()
    }

    func revert(on database: any Database) async throws {
        try await Schema.sql(database).raw("DROP TABLE notes").run()
    }
}

/// The seeded rows and the Fluent calls both sides time, each checked.
enum Schema {
    /// Rows in `notes` of every seeded file; ids are 1...noteCount, titles "Note <id>".
    static let noteCount = BenchmarkSchema.taskCount

    /// Fills a freshly migrated tenant, in one transaction (the `seed` of Tenanted's `createTenant`).
    static func seed(_ connection: SQLiteConnection) async throws {
        try await connection.immediateTransaction {
            _ = try await connection.query(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO notes (id, title) SELECT i, 'Note ' || i FROM n
                """,
                [.integer(noteCount)])
        }
    }

    /// `cold_open`'s query: `Note.query(on:).first()`, which must find a note.
    static func first(on database: any Database) async throws {
        guard try await Note.query(on: database).first() != nil else {
            throw BenchmarkError("Note.query(on:).first() found no note")
        }
    }

    /// `pk_select`: `Note.find(id, on:)`, checked against the seed.
    static func find(_ id: Int, on database: any Database) async throws {
        guard let note = try await Note.find(id, on: database), note.id == id, note.title == "Note \(id)" else {
            throw BenchmarkError("note \(id) was not read back")
        }
    }

    /// `insert`: one new note, autocommitted; Fluent reads the new id back.
    static func insert(on database: any Database) async throws {
        let note = Note(title: "Inserted note")
        try await note.create(on: database)
        guard note.id != nil else { throw BenchmarkError("the inserted note got no id") }
    }

    /// `database` as an `SQLDatabase`, for raw SQL.
    static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else {
            throw BenchmarkError("\(type(of: database)) is not an SQLDatabase")
        }
        return sql
    }

    /// The connection settings that differ between the drivers, as a connection reports them.
    static func settings(on database: any Database) async throws -> [String: String] {
        var settings: [String: String] = [:]
        for pragma in ["journal_mode", "synchronous", "busy_timeout", "foreign_keys"] {
            let row = try await sql(database).raw("PRAGMA \(unsafeRaw: pragma)").first()
            let value = try row.map { row -> String in
                let column = row.allColumns.first ?? pragma
                if let text = try? row.decode(column: column, as: String.self) { return text }
                return String(try row.decode(column: column, as: Int.self))
            }
            settings[pragma] = value ?? "?"
        }
        return settings
    }
}
