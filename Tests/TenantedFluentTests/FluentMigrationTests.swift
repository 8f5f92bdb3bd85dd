import FluentKit
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Per-tenant Fluent migrations: each tenant's own `_fluent_migrations`, stale schemas detected at
/// open, migrateAll, rollback.
@Suite struct FluentMigrationTests {
    @Test func createTenantRunsTheMigrationsInTheNewTenant() async throws {
        try await withFluent(tenants: ["acme"]) { fixture in
            let log = try await fixture.tenancy.withTenant(.acme) {
                try await MigrationLog.query(on: fixture.db()).all().map(\.name)
            }
            #expect(log == [CreateNotes().name])
            let status = try await fixture.tenancy.migrationStatus(.acme)
            #expect(status.applied == [CreateNotes().name])
            #expect(status.pending.isEmpty)
        }
    }

    @Test func aNewMigrationIsPendingAtOpenUntilMigrateAllAppliesItEverywhere() async throws {
        // Release 1: two tenants with rows. Release 2 adds a migration.
        try await withNextRelease(tenants: [.acme, .globex], adding: [AddNotePinned()], prepare: { first, tenant in
            try await Note(title: "\(tenant)").create(on: first.db())
        }) { second in
            let error = await #expect(throws: TenantedError.self) {
                try await second.tenancy.withTenant(.acme) { _ = try await Note.query(on: second.db()).count() }
            }
            #expect(error?.code == .pendingMigrations)
            #expect(error?.message.contains(AddNotePinned().name) == true)
            #expect(try await second.tenancy.migrationStatus(.globex).pending == [AddNotePinned().name])

            let progress = Locked<[Int]>([])
            let report = try await second.tenancy.migrateAll(maximumConcurrency: 2) { progress.append($0.completed) }
            #expect(report.succeeded && report.exitStatus == 0)
            #expect(report.migrated.map(\.tenant) == [.acme, .globex])
            for result in report.results {
                guard case .migrated(let names) = result.outcome else {
                    Issue.record("\(result.tenant): \(result.outcome)")
                    continue
                }
                #expect(names == [AddNotePinned().name])
            }
            #expect(progress.value.sorted() == [1, 2])

            // The new column exists and old rows are intact.
            let rows = try await second.tenancy.withTenant(.acme) {
                try await (second.db() as! any SQLDatabase).raw("SELECT title, pinned FROM notes").all(decoding: PinnedRow.self)
            }
            #expect(rows.map(\.title) == ["acme"])

            let again = try await second.tenancy.migrateAll()
            #expect(again.current.map(\.tenant) == [.acme, .globex])
            #expect(again.migrated.isEmpty && again.succeeded)
        }
    }

    @Test func oneFailingTenantDoesNotStopTheOthersAndIsLeftAsItWas() async throws {
        let tenants = try ["a1", "a2", "bad", "z1"].map(TenantID.init)
        try await withNextRelease(tenants: tenants, adding: [AddNotePinned(), UniqueNoteTitles()], prepare: { first, tenant in
            try await Note(title: "same").create(on: first.db())
            if tenant.description == "bad" { try await Note(title: "same").create(on: first.db()) }
        }) { second in
            let report = try await second.tenancy.migrateAll(maximumConcurrency: 1)
            #expect(!report.succeeded && report.exitStatus == 1)
            #expect(report.failures.map(\.tenant) == [try TenantID("bad")])
            #expect(report.migrated.map(\.tenant).map(\.description) == ["a1", "a2", "z1"])
            let failure = try #require(report.failures.first?.error)
            #expect(failure.code == .migrationFailed)
            #expect(failure.description.contains(UniqueNoteTitles().name))
            // The whole batch rolled back: AddNotePinned is not applied on the failed tenant either.
            let status = try await second.tenancy.migrationStatus(TenantID("bad"))
            #expect(status.applied == [CreateNotes().name])
            #expect(status.pending == [AddNotePinned().name, UniqueNoteTitles().name])
        }
    }

    @Test func rollbackRevertsTheLastBatchOfOneTenantOrAll() async throws {
        try await withNextRelease(tenants: [.acme, .globex], adding: [AddNotePinned()]) { second in
            _ = try await second.tenancy.migrateAll()
            #expect(try await second.tenancy.rollback(.acme) == [AddNotePinned().name])
            #expect(try await second.tenancy.migrationStatus(.acme).pending == [AddNotePinned().name])
            // Behind a registered migration again: the tenant does not open.
            await expectTenantedError(.pendingMigrations) {
                try await second.tenancy.withTenant(.acme) {}
            }
            let report = try await second.tenancy.rollbackAll()
            #expect(report.succeeded)
            #expect(report.reverted.map(\.tenant) == [.acme, .globex])
            // acme's last batch is now its creation batch: rolling it back reverted CreateNotes.
            guard case .reverted(let names)? = report.results.first(where: { $0.tenant == .acme })?.outcome else {
                Issue.record("acme: \(String(describing: report.results.first?.outcome))")
                throw CancellationError()
            }
            #expect(names == [CreateNotes().name])
            #expect(try await second.tenancy.migrationStatus(.acme).applied.isEmpty)
            // Nothing left to revert: "current".
            #expect(try await second.tenancy.rollback(.acme).isEmpty)
        }
    }

    @Test func twoMigratorsOnOneTenantApplyEachMigrationOnce() async throws {
        let directory = try TemporaryDirectory()
        let first = try FluentFixture(directory: directory)
        try await first.tenancy.createTenant(.acme)
        await first.shutdown()

        // Two tenancies stand for two processes: separate pools, separate writers, one file.
        let migrations = TenantMigrations.base()
        migrations.add(AddNotePinned())
        let one = try FluentFixture(migrations: migrations, directory: directory)
        let two = try FluentFixture(migrations: migrations, directory: directory)
        async let a = one.tenancy.migrate(.acme)
        async let b = two.tenancy.migrate(.acme)
        let applied = try await [a, b]
        #expect(applied.flatMap { $0 } == [AddNotePinned().name])
        #expect(try await one.tenancy.migrationStatus(.acme).applied == [CreateNotes().name, AddNotePinned().name])
        await one.shutdown()
        await two.shutdown()
    }

    @Test func duplicateMigrationNamesAreRefused() async throws {
        let migrations = TenantMigrations.base()
        migrations.add(CreateNotes())
        let fixture = try FluentFixture(migrations: migrations)
        let error = await #expect(throws: TenantedError.self) { try await fixture.tenancy.createTenant(.acme) }
        #expect(error?.code == .invalidConfiguration)
        #expect(try await fixture.tenancy.tenantExists(.acme) == false)
        await fixture.shutdown()
    }

    @Test func autoMigrateAppliesPendingMigrationsAtOpen() async throws {
        try await withNextRelease(tenants: [.acme], adding: [AddNotePinned()], configuration: .init(autoMigrate: true)) { second in
            let count = try await second.tenancy.withTenant(.acme) { try await Note.query(on: second.db()).count() }
            #expect(count == 0)
            #expect(try await second.tenancy.migrationStatus(.acme).pending.isEmpty)
        }
    }
}

/// Release 1 (the base migrations) creates `tenants`, running `prepare` in each, and stops; then
/// release 2 (base + `added`) runs `body` on the same files, and is always shut down.
func withNextRelease(
    tenants: [TenantID],
    adding added: [any Migration],
    configuration: Tenancy.Configuration = .init(),
    prepare: (FluentFixture, TenantID) async throws -> Void = { _, _ in },
    _ body: (FluentFixture) async throws -> Void
) async throws {
    let directory = try TemporaryDirectory()
    let first = try FluentFixture(directory: directory)
    do {
        for tenant in tenants {
            try await first.tenancy.createTenant(tenant)
            try await first.tenancy.withTenant(tenant) { try await prepare(first, tenant) }
        }
    } catch {
        await first.shutdown()
        throw error
    }
    await first.shutdown()

    let migrations = TenantMigrations.base()
    migrations.add(added)
    let second = try FluentFixture(migrations: migrations, configuration: configuration, directory: directory)
    do {
        try await body(second)
    } catch {
        await second.shutdown()
        throw error
    }
    await second.shutdown()
}

struct PinnedRow: Decodable {
    let title: String
    let pinned: Bool?
}
