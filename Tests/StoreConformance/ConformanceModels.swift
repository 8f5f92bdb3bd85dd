import FluentKit
import Foundation
import Tenanted
import TenantedFluent

/// The conformance suite's tenant model: every row carries the name of the tenant that wrote it, so
/// any row read from another tenant's storage is caught.
final class Entry: Model, @unchecked Sendable {
    static let schema = "entries"

    @ID(key: .id) var id: UUID?
    /// The tenant that wrote the row.
    @Field(key: "owner") var owner: String
    @Field(key: "value") var value: Int
    @TenantOrigin var tenant: TenantID?

    init() {}

    init(owner: TenantID, value: Int) {
        self.owner = owner.rawValue
        self.value = value
    }
}

struct CreateEntries: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Entry.schema)
            .id()
            .field("owner", .string, .required)
            .field("value", .int, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Entry.schema).delete()
    }
}

/// A second release's migration: a new table.
struct CreateLabels: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("labels")
            .id()
            .field("name", .string, .required)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("labels").delete()
    }
}

/// A migration that creates a table and then fails, for one tenant only.
struct FailsFor: AsyncMigration {
    let tenant: TenantID

    var name: String { "FailsForOneTenant" }

    func prepare(on database: any Database) async throws {
        try await database.schema("half_done").id().create()
        if (database as? any TenantBoundDatabase)?.tenant == tenant {
            throw ConformanceFailure(description: "this migration fails for tenant \(tenant) on purpose")
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("half_done").delete()
    }
}

struct ConformanceFailure: Error, CustomStringConvertible {
    let description: String
}

extension TenantMigrations {
    /// The first release: the entries table.
    static func conformance(_ extra: [any Migration] = []) -> TenantMigrations {
        let migrations = TenantMigrations()
        migrations.add(CreateEntries())
        for migration in extra { migrations.add(migration) }
        return migrations
    }
}
