import FluentKit
import SQLKit
import Foundation
import Tenanted
import TenantedFluent

/// A tenanted model with integer IDs, so two tenants hand out the same IDs.
final class Note: Model, @unchecked Sendable {
    static let schema = "notes"

    @ID(custom: .id) var id: Int?
    @Field(key: "title") var title: String
    /// The ID of an `Account` in the shared database (a reference by ID: no join across databases).
    @OptionalField(key: "account_id") var accountID: UUID?
    @Children(for: \.$note) var comments: [Comment]
    @TenantOrigin var tenant: TenantID?

    init() {}

    init(id: Int? = nil, title: String, accountID: UUID? = nil) {
        self.id = id
        self.title = title
        self.accountID = accountID
    }
}

final class Comment: Model, @unchecked Sendable {
    static let schema = "comments"

    @ID(custom: .id) var id: Int?
    @Parent(key: "note_id") var note: Note
    @Field(key: "body") var body: String
    @TenantOrigin var tenant: TenantID?

    init() {}

    init(noteID: Int, body: String) {
        self.$note.id = noteID
        self.body = body
    }
}

/// An untenanted model of the shared database.
final class Account: Model, @unchecked Sendable {
    static let schema = "accounts"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String

    init() {}

    init(name: String) { self.name = name }
}

struct CreateNotes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Note.schema)
            .field(.id, .int, .identifier(auto: true))
            .field("title", .string, .required)
            .field("account_id", .uuid)
            .create()
        try await database.schema(Comment.schema)
            .field(.id, .int, .identifier(auto: true))
            .field("note_id", .int, .required, .references(Note.schema, .id, onDelete: .cascade))
            .field("body", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Comment.schema).delete()
        try await database.schema(Note.schema).delete()
    }
}

/// The migration a later release adds.
struct AddNotePinned: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Note.schema).field("pinned", .bool).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Note.schema).deleteField("pinned").update()
    }
}

/// Fails on a tenant that has two notes with the same title.
struct UniqueNoteTitles: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // SQLite cannot add a constraint with ALTER TABLE; a unique index does the same.
        try await (database as! any SQLDatabase).raw("CREATE UNIQUE INDEX notes_title_unique ON notes (title)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP INDEX notes_title_unique").run()
    }
}

struct CreateAccounts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Account.schema).id().field("name", .string, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Account.schema).delete()
    }
}

extension TenantMigrations {
    /// The first release's tenant schema.
    static func base() -> TenantMigrations {
        let migrations = TenantMigrations()
        migrations.add(CreateNotes())
        return migrations
    }
}

/// The notes table again, as a type no other test instantiates: its record guard is registered
/// only when the one test that uses it makes its first instance.
final class FirstUsedLateNote: Model, @unchecked Sendable {
    static let schema = "notes"

    @ID(custom: .id) var id: Int?
    @Field(key: "title") var title: String
    @TenantOrigin var tenant: TenantID?

    init() {}

    init(title: String) {
        self.title = title
    }
}
