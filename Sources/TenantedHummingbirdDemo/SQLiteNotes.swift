import SQLiteNIO
import Tenanted
import TenantedHummingbird
import TenantedSQLite

/// The notes on the SQLite store: reads on the pool's readers, writes on its writer.
struct SQLiteNotes: NoteRepository {
    func all(_ context: some TenantRequestContext) async throws -> [Note] {
        let tenant = try context.requireTenant()
        return try await context.tenantPool(as: SQLitePool.self).read { connection in
            try await connection.query("SELECT \(noteColumns) FROM notes ORDER BY created_at, id").map { Self.note($0, tenant) }
        }
    }

    func count(_ context: some TenantRequestContext) async throws -> Int {
        try await context.tenantPool(as: SQLitePool.self).read { connection in
            try await connection.query("SELECT COUNT(*) AS n FROM notes").first?.column("n")?.integer ?? 0
        }
    }

    func find(_ id: String, _ context: some TenantRequestContext) async throws -> Note? {
        let tenant = try context.requireTenant()
        return try await context.tenantPool(as: SQLitePool.self).read { connection in
            try await connection.query("SELECT \(noteColumns) FROM notes WHERE id = ?", [.text(id)]).first.map { Self.note($0, tenant) }
        }
    }

    func insert(_ note: Note, createdAt: String, _ context: some TenantRequestContext) async throws {
        try await context.tenantPool(as: SQLitePool.self).write { connection in
            _ = try await connection.query(
                "INSERT INTO notes (id, title, body, created_at) VALUES (?, ?, ?, ?)",
                [.text(note.id), .text(note.title), .text(note.body), .text(createdAt)]
            )
        }
    }

    func update(_ note: Note, _ context: some TenantRequestContext) async throws {
        try await context.tenantPool(as: SQLitePool.self).write { connection in
            _ = try await connection.query("UPDATE notes SET title = ?, body = ? WHERE id = ?", [.text(note.title), .text(note.body), .text(note.id)])
        }
    }

    func delete(_ id: String, _ context: some TenantRequestContext) async throws -> Bool {
        try await context.tenantPool(as: SQLitePool.self).write { connection in
            !(try await connection.query("DELETE FROM notes WHERE id = ? RETURNING id", [.text(id)])).isEmpty
        }
    }

    private static func note(_ row: SQLiteRow, _ tenant: TenantID) -> Note {
        Note(
            id: row.column("id")?.string ?? "",
            title: row.column("title")?.string ?? "",
            body: row.column("body")?.string ?? "",
            tenant: tenant.description,
            createdAt: NoteSchema.shown(row.column("created_at")?.string)
        )
    }
}
