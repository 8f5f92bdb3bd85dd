import FluentKit
import Foundation
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Issue 7, test 7 on Fluent: a migration that throws halfway through a create.
@Suite struct FluentFaultTests {
    struct HalfwayFailure: Error {}

    /// Creates a table, then throws: the table must not survive.
    struct CreatesThenThrows: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema("half_done").id().create()
            throw HalfwayFailure()
        }

        func revert(on database: any Database) async throws {}
    }

    @Test func aMigrationThrowingHalfwayRollsTheCreateBackAndNamesTheTenant() async throws {
        let migrations = TenantMigrations.base()
        migrations.add(CreatesThenThrows())
        try await withFluent(migrations: migrations, tenants: []) { fixture in
            let before = fixture.directory.contents()
            let error = await #expect(throws: TenantedError.self) { try await fixture.tenancy.createTenant(.acme) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.tenant == .acme)
            #expect(error?.message.contains("acme") == true)
            #expect(error?.message.contains(CreatesThenThrows().name) == true)
            #expect(try await fixture.tenancy.tenantExists(.acme) == false)
            #expect(try await fixture.tenancy.tenants().isEmpty)
            // Only the template's shared directories (`storage/tenants/`) may stay: nothing of the tenant.
            let left = fixture.directory.contents().subtracting(before)
            #expect(left.allSatisfy { $0.hasSuffix("/") && !$0.contains("acme") }, "the failed create left \(left)")
            // The name is free again: without the failing migration the create succeeds.
            let fixed = try FluentFixture(migrations: .base(), directory: fixture.directory)
            #expect(try await fixed.tenancy.createTenant(.acme))
            await fixed.shutdown()
        }
    }
}
