import Foundation
import PostgresNIO
import Tenanted
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// Issue 18 on the PostgreSQL stores (every layout): backup and restore with `pg_dump` /
/// `pg_restore`, clone isolation, bad backups, suspension seen by another "process" (a second store
/// with its own listener), and creates from a template database. Real processes of the demo run the
/// same scenarios in `TenantedVaporTests/TenantOperationsProcessTests`.
@Suite("PostgreSQL: tenant operations", .enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct PostgresTenantOperationsTests {
    static let globex = try! TenantID("globex")

    private func withTwoProcesses(_ layout: TestLayout, _ body: (ItemsTenancy, ItemsTenancy, TemporaryDirectory) async throws -> Void) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let server = try ItemsTenancy(stores: stores)
        let command = try ItemsTenancy(stores: stores)
        let directory = try TemporaryDirectory()
        try await withTeardown { try await body(server, command, directory) } teardown: {
            await server.shutdown()
            await command.shutdown()
            await stores.cleanUp()
        }
    }

    @Test("backup, restore under another name and over itself, clone: the data travels, the copies stay apart", arguments: TestLayout.allCases)
    func backupRestoreClone(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command, directory in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            try await server.insert(2, into: .acme)
            let file = directory.appending("acme.backup")
            let header = try await command.tenancy.backup(.acme, to: file)
            #expect(header.store == command.tenancy.store.backupKind)
            #expect(header.migrations.count == 1)
            try await server.insert(3, into: .acme)

            try await command.tenancy.restore(Self.globex, from: file)
            #expect(try await server.values(of: Self.globex) == [1, 2], "another process serves the restored tenant")
            #expect(try await server.tenancy.tenants() == [.acme, Self.globex])

            await expectTenantedError(.tenantExists) { try await command.tenancy.restore(.acme, from: file) }
            #expect(try await server.values(of: .acme) == [1, 2, 3], "left untouched")
            try await command.tenancy.restore(.acme, from: file, replace: true)
            #expect(try await server.values(of: .acme) == [1, 2], "the other process's warm pool was retired")
            try await server.insert(4, into: .acme)
            #expect(try await command.values(of: .acme) == [1, 2, 4])

            let beta = try TenantID("beta")
            try await command.tenancy.clone(.acme, to: beta)
            try await server.insert(5, into: beta)
            try await server.insert(6, into: .acme)
            #expect(try await server.values(of: beta) == [1, 2, 4, 5])
            #expect(try await server.values(of: .acme) == [1, 2, 4, 6])
        }
    }

    @Test("bad backup files and another store's backups are refused; nothing is created", arguments: TestLayout.allCases)
    func badBackups(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { _, command, directory in
            try await command.tenancy.createTenant(.acme)
            let good = directory.appending("good.backup")
            try await command.tenancy.backup(.acme, to: good)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: directory.appending("half.backup")))
            try Data("plain text\n".utf8).write(to: URL(fileURLWithPath: directory.appending("text.backup")))
            try backupRewriting(bytes, "store", to: "sqlite").write(to: URL(fileURLWithPath: directory.appending("sqlite.backup")))
            for name in ["half.backup", "text.backup", "sqlite.backup", "missing.backup"] {
                await expectTenantedError(.badBackup) { try await command.tenancy.restore(Self.globex, from: directory.appending(name)) }
            }
            #expect(try await command.tenancy.tenants() == [.acme])
        }
    }

    @Test("a suspension is seen by another process before its next scope; resume serves it again", arguments: TestLayout.allCases)
    func suspendAndResume(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command, directory in
            try await server.tenancy.createTenant(.acme)
            try await server.tenancy.createTenant(Self.globex)
            try await server.insert(1, into: .acme)
            let pool = try await server.tenancy.withTenant(.acme) { try #require(Tenant.lease?.pool as? PostgresTenantPool) }

            try await command.tenancy.suspend(.acme, reason: "audit")
            // The announcement reaches the other process's watcher (a bounded wait, as in CrossProcessCoherenceTests).
            let clock = ContinuousClock()
            let started = clock.now
            while pool.isCurrent, clock.now - started < .seconds(10) { try await Task.sleep(for: .milliseconds(1)) }
            let error = await #expect(throws: TenantedError.self) { _ = try await server.values(of: .acme) }
            #expect(error?.code == .tenantSuspended)
            #expect(error?.description.contains("audit") == false)
            #expect(try await server.values(of: Self.globex) == [])
            #expect(try await server.tenancy.suspension(of: .acme) == TenantSuspension(reason: "audit"))
            #expect(try await server.tenancy.migrationStatus(.acme).pending.isEmpty, "status works while suspended")
            try await server.tenancy.backup(.acme, to: directory.appending("suspended.backup"))

            try await command.tenancy.resume(.acme)
            #expect(try await server.values(of: .acme) == [1])
            let nobody = try TenantID("nobody")
            await expectTenantedError(.tenantNotFound) { try await command.tenancy.suspend(nobody) }
        }
    }

    @Test("a create from the template records the migrations as a migrated tenant's")
    func templateCreate() async throws {
        try await withTwoProcesses(.database) { server, command, _ in
            try await server.tenancy.createTenant(.acme)
            try await command.tenancy.createTenant(Self.globex)
            let prefix = try server.tenancy.store(as: PostgresStore.self).configuration.prefix
            let templates = try await PostgresStoreTemplates.names(prefix: prefix)
            #expect(templates.count == 1, "one template for the migration set: \(templates)")
            #expect(try await server.tenancy.migrationStatus(Self.globex).applied == server.tenancy.migrationStatus(.acme).applied)
            try await server.insert(7, into: Self.globex)
            #expect(try await command.values(of: Self.globex) == [7])
            #expect(try await server.values(of: .acme) == [])
        }
    }
}

enum PostgresStoreTemplates {
    /// The template databases of the store with `prefix`.
    static func names(prefix: String) async throws -> [String] {
        try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
            var names: [String] = []
            let rows = try await connection.query("SELECT datname::text FROM pg_database WHERE starts_with(datname, \(prefix + "_template_"))", logger: .silent)
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }
}
