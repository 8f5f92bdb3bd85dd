import FluentKit
import Foundation
import Tenanted
import TenantedFluent

/// A note of the demo's tenant schema.
final class Note: Model, @unchecked Sendable {
    static let schema = "notes"

    @ID(key: .id) var id: UUID?
    @Field(key: "title") var title: String
    @Field(key: "body") var body: String
    @TenantOrigin var tenant: TenantID?
    @Timestamp(key: "created_at", on: .create, format: .iso8601) var createdAt: Date?

    init() {}

    init(title: String, body: String) {
        self.title = title
        self.body = body
    }
}

struct CreateNotes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Note.schema)
            .id()
            .field("title", .string, .required)
            .field("body", .string, .required)
            .field("created_at", .string)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Note.schema).delete()
    }
}

/// `base`, with a pause before and after it (``DemoOptions/migrationDelay``, for the reliability
/// tests only). Its name is `base`'s, so the migration log cannot tell the difference.
struct PausedMigration: AsyncMigration {
    let base: any AsyncMigration
    let pause: Duration

    var name: String { base.name }

    func prepare(on database: any Database) async throws {
        try await Task.sleep(for: pause / 2)
        try await base.prepare(on: database)
        try await Task.sleep(for: pause / 2)
    }

    func revert(on database: any Database) async throws {
        try await base.revert(on: database)
    }
}

/// What `POST /notes` and `PATCH /notes/:id` accept.
struct NoteInput: Decodable {
    var title: String?
    var body: String?
}
