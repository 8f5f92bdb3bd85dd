import Foundation
import Logging
import MariaDBClient
import PostgresNIO
import SQLiteNIO
import Tenanted
import TenantedDemoSupport
import TenantedHummingbird
import TenantedMySQL
import TenantedPostgres
import TenantedSQLite

/// The notes of the request's tenant, in plain SQL on the tenant's pool, reached through the
/// request context's lease (no lookup): `SQLitePool`, `PostgresTenantPool` or `MySQLTenantPool`.
struct NoteRepository: Sendable {
    let store: DemoEnvironment.StoreKind

    private static let columns = "id, title, body, created_at"

    func all(_ context: some TenantRequestContext) async throws -> [Note] {
        let tenant = try context.requireTenant()
        let sql = "SELECT \(Self.columns) FROM notes ORDER BY created_at, id"
        if store == .mysql {
            return try await mysql(context) { try await $0.query(sql).rows.map { Self.note($0, tenant) } }
        }
        if store == .sqlite {
            return try await context.tenantPool(as: SQLitePool.self).read { connection in
                try await connection.query(sql).map { Self.note($0, tenant) }
            }
        }
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await Self.notes(connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger), tenant)
        }
    }

    /// How many notes the request's tenant has.
    func count(_ context: some TenantRequestContext) async throws -> Int {
        let sql = "SELECT COUNT(*) AS n FROM notes"
        if store == .mysql {
            return try await mysql(context) { Int(try await $0.query(sql).rows.first?["n"]?.int64 ?? 0) }
        }
        if store == .sqlite {
            return try await context.tenantPool(as: SQLitePool.self).read { connection in
                try await connection.query(sql).first?.column("n")?.integer ?? 0
            }
        }
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            var count = 0
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger).decode(Int.self) { count = value }
            return count
        }
    }

    func find(_ id: String, _ context: some TenantRequestContext) async throws -> Note? {
        let tenant = try context.requireTenant()
        if store == .mysql {
            return try await mysql(context) { connection in
                try await connection.query("SELECT \(Self.columns) FROM notes WHERE id = ?", [.text(id)]).rows.first.map { Self.note($0, tenant) }
            }
        }
        if store == .sqlite {
            return try await context.tenantPool(as: SQLitePool.self).read { connection in
                try await connection.query("SELECT \(Self.columns) FROM notes WHERE id = ?", [.text(id)]).first.map { Self.note($0, tenant) }
            }
        }
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await Self.notes(connection.query("SELECT id, title, body, created_at FROM notes WHERE id = \(id)", logger: Self.logger), tenant).first
        }
    }

    func insert(_ note: Note, createdAt: String, _ context: some TenantRequestContext) async throws {
        if store == .mysql {
            _ = try await mysql(context) { connection in
                try await connection.query(
                    "INSERT INTO notes (id, title, body, created_at) VALUES (?, ?, ?, ?)",
                    [.text(note.id), .text(note.title), .text(note.body), .text(createdAt)]
                )
            }
            return
        }
        if store == .sqlite {
            try await context.tenantPool(as: SQLitePool.self).write { connection in
                _ = try await connection.query(
                    "INSERT INTO notes (id, title, body, created_at) VALUES (?, ?, ?, ?)",
                    [.text(note.id), .text(note.title), .text(note.body), .text(createdAt)]
                )
            }
            return
        }
        _ = try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await connection.query(
                "INSERT INTO notes (id, title, body, created_at) VALUES (\(note.id), \(note.title), \(note.body), \(createdAt))",
                logger: Self.logger
            )
        }
    }

    func update(_ note: Note, _ context: some TenantRequestContext) async throws {
        if store == .mysql {
            _ = try await mysql(context) { connection in
                try await connection.query("UPDATE notes SET title = ?, body = ? WHERE id = ?", [.text(note.title), .text(note.body), .text(note.id)])
            }
            return
        }
        if store == .sqlite {
            try await context.tenantPool(as: SQLitePool.self).write { connection in
                _ = try await connection.query("UPDATE notes SET title = ?, body = ? WHERE id = ?", [.text(note.title), .text(note.body), .text(note.id)])
            }
            return
        }
        _ = try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            try await connection.query("UPDATE notes SET title = \(note.title), body = \(note.body) WHERE id = \(note.id)", logger: Self.logger)
        }
    }

    /// Deletes the note; `false` when there was none.
    func delete(_ id: String, _ context: some TenantRequestContext) async throws -> Bool {
        if store == .mysql {
            return try await mysql(context) { try await $0.query("DELETE FROM notes WHERE id = ?", [.text(id)]).affectedRows > 0 }
        }
        if store == .sqlite {
            return try await context.tenantPool(as: SQLitePool.self).write { connection in
                let rows = try await connection.query("DELETE FROM notes WHERE id = ? RETURNING id", [.text(id)])
                return !rows.isEmpty
            }
        }
        return try await context.tenantPool(as: PostgresTenantPool.self).withConnection { connection in
            let rows = try await connection.query("DELETE FROM notes WHERE id = \(id) RETURNING id", logger: Self.logger)
            var deleted = false
            for try await _ in rows { deleted = true }
            return deleted
        }
    }

    /// Runs `body` on a connection of the request's tenant's MySQL database.
    private func mysql<Result: Sendable>(_ context: some TenantRequestContext, _ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
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

    private static func note(_ row: SQLiteRow, _ tenant: TenantID) -> Note {
        Note(
            id: row.column("id")?.string ?? "",
            title: row.column("title")?.string ?? "",
            body: row.column("body")?.string ?? "",
            tenant: tenant.description,
            createdAt: NoteSchema.shown(row.column("created_at")?.string)
        )
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
