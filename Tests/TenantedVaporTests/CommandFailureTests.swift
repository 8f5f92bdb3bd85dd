import Fluent
import Foundation
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor

/// Issue 15, in process: what a failed `tenants` command throws when it may not exit, and what
/// `app.tenanted.use` does to Fluent's `migrate`. TutorialAppTests runs the same as real processes.
@Suite("Failed commands and Fluent's migrate, in process")
struct CommandFailureTests {
    let directory = try! TemporaryDirectory()

    func withApp(_ body: (Application) async throws -> Void) async throws {
        let app = try await Application.make(.testing)
        app.logger = .silent
        do {
            let migrations = TenantMigrations()
            let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: directory.path)), migrations: migrations, logger: .silent)
            try app.tenanted.use(tenancy)
            try await body(app)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    func run(_ arguments: [String], on app: Application) async throws {
        var context = CommandContext(console: app.console, input: CommandInput(arguments: ["App"] + arguments))
        context.application = app
        try await TenantsCommand(exitsOnFailure: false).run(using: &context)
    }

    @Test("with exitsOnFailure: false, a failed command throws TenantsCommandFailed carrying its one line")
    func throwsWhenItMayNotExit() async throws {
        try await withApp { app in
            try await run(["create", "acme"], on: app)
            let exists = await #expect(throws: TenantsCommandFailed.self) { try await run(["create", "acme"], on: app) }
            #expect(exists?.description == "tenantExists: cannot create tenant 'acme': it already exists or is being created")
            let invalid = await #expect(throws: TenantsCommandFailed.self) { try await run(["create", "Acme"], on: app) }
            #expect(invalid?.description.hasPrefix("badTenantName:") == true, "\(invalid?.description ?? "")")
            // Argument errors take the same path: one line, never a second report.
            let missing = await #expect(throws: TenantsCommandFailed.self) { try await run(["create"], on: app) }
            #expect(missing?.description.contains("name") == true, "\(missing?.description ?? "")")
            let unknown = await #expect(throws: TenantsCommandFailed.self) { try await run(["frobnicate"], on: app) }
            #expect(unknown?.description.contains("frobnicate") == true, "\(unknown?.description ?? "")")
            #expect(try await app.tenanted.requireTenancy().tenants() == [TenantID("acme")])
        }
    }

    @Test("app.tenanted.use wraps Fluent's migrate, whose help then names tenants migrate")
    func migrateIsWrapped() async throws {
        try await withApp { app in
            let migrate = try #require(app.asyncCommands.commands["migrate"])
            #expect(migrate.help.contains("`tenants migrate`"), "\(migrate.help)")
            #expect(migrate.help.contains("Prepare or revert your database migrations"), "Fluent's own help is kept: \(migrate.help)")
        }
    }
}
