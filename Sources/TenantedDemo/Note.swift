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

/// What `POST /notes` and `PATCH /notes/:id` accept.
struct NoteInput: Decodable {
    var title: String?
    var body: String?
}
