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
            while pool.isCurrent, clock.now - started < .seconds(30) { try await Task.sleep(for: .milliseconds(1)) }
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

    @Test("a restore interrupted after its rename is recovered by the next restore; a complete object no row names is refused", arguments: TestLayout.allCases)
    func interruptedRestoreLeftovers(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command, directory in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            let file = directory.appending("acme.backup")
            try await command.tenancy.backup(.acme, to: file)
            let store = try command.tenancy.typedStore
            let host = try store.server(named: store.serverNames[0])

            // What a restore killed between its rename and its catalog row leaves: the complete copy at
            // the tenant's name, a row that is not ready, and a staging copy of an earlier killed run.
            try await command.tenancy.restore(Self.globex, from: file)
            try await store.catalog { try await $0.setNotReady(Self.globex) }
            try await store.createObject(store.restoreStagingName(of: Self.globex), on: host, tenant: Self.globex)
            #expect(try await command.tenancy.tenants() == [.acme], "a row that is not ready is not a tenant")
            try await command.tenancy.restore(Self.globex, from: file)
            #expect(try await server.values(of: Self.globex) == [1])
            #expect(try await Self.objectExists(store.restoreStagingName(of: Self.globex), layout: layout) == false, "the killed run's staging copy is gone")

            // The row is the commit point: a restore of a new tenant has written it, not ready, before
            // it swaps anything in at the tenant's name.
            let initech = try TenantID("initech")
            let archive = try TenantBackupArchive.open(file)
            try await store.restore(initech, from: archive, replace: false) { _ in
                let row = try await store.catalog { try await $0.placement(of: initech) }
                #expect(row != nil && row?.ready == false, "a not-ready row while the restore runs: \(String(describing: row))")
            }
            #expect(try await command.tenancy.tenants() == [.acme, Self.globex, initech])

            // A create finding such a leftover (a complete, marked copy behind a row that is not
            // ready) starts afresh: the row's `ready` is the commit point, never the object's mark.
            let initechCopy = try TenantID("initech-copy")
            try await command.tenancy.restore(initechCopy, from: file)
            try await store.catalog { try await $0.setNotReady(initechCopy) }
            #expect(try await command.tenancy.createTenant(initechCopy))
            #expect(try await server.values(of: initechCopy) == [], "a new, empty tenant, not the leftover")

            // A complete object with no catalog row at all is someone else's: refused, left alone.
            try await store.catalog { try await $0.remove(Self.globex) }
            let refused = await #expect(throws: TenantedError.self) { try await command.tenancy.restore(Self.globex, from: file) }
            #expect(refused?.code == .tenantExists)
            #expect(refused?.description.contains("does not list") == true)
            #expect(try await store.isMarkedReady(try store.objectName(of: Self.globex), on: host), "left untouched")
            try await store.dropObject(try store.objectName(of: Self.globex), on: host, tenant: Self.globex)
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

extension PostgresTenantOperationsTests {
    /// Whether a database (database layout) or schema named `name` exists on the primary server.
    static func objectExists(_ name: String, layout: TestLayout) async throws -> Bool {
        try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
            let query: PostgresQuery = layout == .database
                ? "SELECT count(*)::int8 FROM pg_database WHERE datname = \(name)"
                : "SELECT count(*)::int8 FROM pg_namespace WHERE nspname = \(name)"
            var count: Int64 = 0
            for try await value in try await connection.query(query, logger: .silent).decode(Int64.self) { count = value }
            return count > 0
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
