// Not in the README: the migration the test adds, as a user would after the tutorial.
import Fluent

struct CreateTag: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("tags").id().field("name", .string, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("tags").delete()
    }
}
