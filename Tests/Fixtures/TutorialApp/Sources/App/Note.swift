// README tutorial block 2, with the imports the README shows.
import Fluent
import TenantedVapor
import Vapor

final class Note: Model, Content, @unchecked Sendable {
    static let schema = "notes"

    @ID(key: .id) var id: UUID?
    @Field(key: "title") var title: String
    @TenantOrigin var tenant: TenantID?

    init() {}
}

struct CreateNote: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("notes").id().field("title", .string, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notes").delete()
    }
}
