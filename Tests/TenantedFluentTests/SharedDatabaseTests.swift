import FluentKit
import FluentSQLiteDriver
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Untenanted data on a second, non-default database beside the routing default.
@Suite struct SharedDatabaseTests {
    @Test func sharedRowsAreVisibleFromEveryTenantAndTenantRowsStayInTheirTenant() async throws {
        try await withFluent { fixture in
            fixture.databases.use(.sqlite(.file(fixture.directory.appending("shared.sqlite"))), as: .shared, isDefault: false)
            let shared = try #require(fixture.databases.database(.shared, logger: .silent, on: fixture.eventLoop))
            try await CreateAccounts().prepare(on: shared)
            let account = Account(name: "Acme Corp")
            try await account.create(on: shared)
            let accountID = try account.requireID()

            try await fixture.tenancy.withTenant(.acme) {
                // A tenanted model refers to a shared one by ID; it is loaded from the shared database.
                try await Note(title: "invoice", accountID: accountID).create(on: fixture.db())
                let note = try #require(try await Note.query(on: fixture.db()).first())
                let owner = try await Account.find(note.accountID, on: fixture.databases.database(.shared, logger: .silent, on: fixture.eventLoop)!)
                #expect(owner?.name == "Acme Corp")
                // The shared database is not the tenant's: it has no notes table.
                await #expect(throws: (any Error).self) {
                    _ = try await Note.query(on: fixture.databases.database(.shared, logger: .silent, on: fixture.eventLoop)!).count()
                }
            }
            let (accounts, notes) = try await fixture.tenancy.withTenant(.globex) {
                let accounts = try await Account.query(on: fixture.databases.database(.shared, logger: .silent, on: fixture.eventLoop)!).count()
                return (accounts, try await Note.query(on: fixture.db()).count())
            }
            #expect(accounts == 1 && notes == 0)
            // Outside any tenant the shared database still works; the default still fails closed.
            #expect(try await Account.query(on: shared).count() == 1)
            await expectTenantedError(.noTenant) { _ = try await Note.query(on: fixture.db()).count() }
        }
    }
}
