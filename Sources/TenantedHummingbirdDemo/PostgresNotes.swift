import Logging
import PostgresNIO
import Tenanted
import TenantedHummingbird
import TenantedPostgres

/// The notes on the PostgreSQL stores, on connections the tenant's pool lends (with the tenant's
/// `search_path` in the schema layouts).
struct PostgresNotes: NoteRepository {
    func all(_ context: some TenantRequestContext) async throws -> [Note] {
        let tenant = try context.requireTenant()
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await Self.notes(connection.query(PostgresQuery(unsafeSQL: "SELECT \(noteColumns) FROM notes ORDER BY created_at, id"), logger: Self.logger), tenant)
        }
    }

    func count(_ context: some TenantRequestContext) async throws -> Int {
        try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            var count = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM notes", logger: Self.logger).decode(Int.self) { count = value }
            return count
        }
    }

    func find(_ id: String, _ context: some TenantRequestContext) async throws -> Note? {
        let tenant = try context.requireTenant()
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await Self.notes(connection.query("SELECT id, title, body, created_at FROM notes WHERE id = \(id)", logger: Self.logger), tenant).first
        }
    }

    func insert(_ note: Note, createdAt: String, _ context: some TenantRequestContext) async throws {
        _ = try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await connection.query(
                "INSERT INTO notes (id, title, body, created_at) VALUES (\(note.id), \(note.title), \(note.body), \(createdAt))",
                logger: Self.logger
            )
        }
    }

    func update(_ note: Note, _ context: some TenantRequestContext) async throws {
        _ = try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await connection.query("UPDATE notes SET title = \(note.title), body = \(note.body) WHERE id = \(note.id)", logger: Self.logger)
        }
    }

    func delete(_ id: String, _ context: some TenantRequestContext) async throws -> Bool {
        try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            let rows = try await connection.query("DELETE FROM notes WHERE id = \(id) RETURNING id", logger: Self.logger)
            var deleted = false
            for try await _ in rows { deleted = true }
            return deleted
        }
    }

    private static func notes(_ rows: PostgresRowSequence, _ tenant: TenantID) async throws -> [Note] {
        var notes: [Note] = []
        for try await (id, title, body, createdAt) in rows.decode((String, String, String, String?).self) {
            notes.append(Note(id: id, title: title, body: body, tenant: tenant.description, createdAt: NoteSchema.shown(createdAt)))
        }
        return notes
    }

    static let logger = Logger(label: "tenanted-hummingbird-demo.notes")
}
