import MariaDBClient
import Tenanted
import TenantedHummingbird
import TenantedMySQL

/// The notes on the MySQL store, on connections the tenant's pool lends (they start in the tenant's
/// database).
struct MySQLNotes: NoteRepository {
    func all(_ context: some TenantRequestContext) async throws -> [Note] {
        let tenant = try context.requireTenant()
        return try await on(context) { try await $0.query("SELECT \(noteColumns) FROM notes ORDER BY created_at, id").rows.map { Self.note($0, tenant) } }
    }

    func count(_ context: some TenantRequestContext) async throws -> Int {
        try await on(context) { Int(try await $0.query("SELECT COUNT(*) AS n FROM notes").rows.first?["n"]?.int64 ?? 0) }
    }

    func find(_ id: String, _ context: some TenantRequestContext) async throws -> Note? {
        let tenant = try context.requireTenant()
        return try await on(context) { connection in
            try await connection.query("SELECT \(noteColumns) FROM notes WHERE id = ?", [.text(id)]).rows.first.map { Self.note($0, tenant) }
        }
    }

    func insert(_ note: Note, createdAt: String, _ context: some TenantRequestContext) async throws {
        _ = try await on(context) { connection in
            try await connection.query(
                "INSERT INTO notes (id, title, body, created_at) VALUES (?, ?, ?, ?)",
                [.text(note.id), .text(note.title), .text(note.body), .text(createdAt)]
            )
        }
    }

    func update(_ note: Note, _ context: some TenantRequestContext) async throws {
        _ = try await on(context) { connection in
            try await connection.query("UPDATE notes SET title = ?, body = ? WHERE id = ?", [.text(note.title), .text(note.body), .text(note.id)])
        }
    }

    func delete(_ id: String, _ context: some TenantRequestContext) async throws -> Bool {
        try await on(context) { try await $0.query("DELETE FROM notes WHERE id = ?", [.text(id)]).affectedRows > 0 }
    }

    /// Runs `body` on a connection of the request's tenant's database.
    private func on<Result: Sendable>(_ context: some TenantRequestContext, _ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
        try await context.tenantPool(as: MySQLTenantPool.self).withConnection(body)
    }

    private static func note(_ row: MariaDBRow, _ tenant: TenantID) -> Note {
        Note(
            id: row["id"]?.string ?? "",
            title: row["title"]?.string ?? "",
            body: row["body"]?.string ?? "",
            tenant: tenant.description,
            createdAt: NoteSchema.shown(row["created_at"]?.string)
        )
    }
}
