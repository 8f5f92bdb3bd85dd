import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Issue 18 on the SQLite store: backup, restore, clone, suspend and resume, create from a template,
/// owner-only files. Two tenancies over one root stand for two processes (the demo's real processes
/// run the same scenarios in `TenantedVaporTests/TenantOperationsProcessTests`).
@Suite("SQLite: tenant operations")
struct TenantOperationsTests {
    let directory: TemporaryDirectory
    let acme: TenantID
    let globex: TenantID

    init() throws {
        directory = try TemporaryDirectory()
        acme = try TenantID("acme")
        globex = try TenantID("globex")
    }

    private func insert(_ body: String, into tenant: TenantID, in tenancy: Tenancy) async throws {
        try await tenancy.withTenant(tenant) {
            try await currentPool().write { _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text(body)]) }
        }
    }

    private func notes(of tenant: TenantID, in tenancy: Tenancy) async throws -> [String] {
        try await tenancy.withTenant(tenant) {
            try await currentPool().read { try await $0.strings("SELECT body FROM notes ORDER BY id") }
        }
    }

    private func path(_ name: String) -> String { directory.appending(name) }

    // MARK: Backup and restore

    @Test("a backup restores as the same data, under the same or another name, migrated and listed")
    func backupAndRestore() async throws {
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try await insert("one", into: acme, in: tenancy)
            try await insert("two", into: acme, in: tenancy)
            let header = try await tenancy.backup(acme, to: path("acme.backup"))
            #expect(header.store == "sqlite")
            #expect(header.tenant == "acme")
            #expect(header.migrations == ["001_notes", "002_tags"])
            try await insert("after the backup", into: acme, in: tenancy)

            try await tenancy.restore(globex, from: path("acme.backup"))
            #expect(try await notes(of: globex, in: tenancy) == ["one", "two"])
            #expect(try await tenancy.tenants() == [acme, globex])
            #expect(try await tenancy.migrationStatus(globex).pending.isEmpty)

            // Restoring over an existing tenant is refused without replace, and leaves it untouched.
            await expectTenantedError(.tenantExists) { try await tenancy.restore(acme, from: path("acme.backup")) }
            #expect(try await notes(of: acme, in: tenancy) == ["one", "two", "after the backup"])
            // With replace, the backup's data replaces it (the open pool is retired).
            try await tenancy.restore(acme, from: path("acme.backup"), replace: true)
            #expect(try await notes(of: acme, in: tenancy) == ["one", "two"])
        }
    }

    @Test("a backup of an older schema is migrated on restore; one ahead of the app is refused")
    func restoreMigrates() async throws {
        let old = SQLMigrator.base
        try await directory.withTenancy(migrator: old) { tenancy async throws in
            try await tenancy.createTenant(acme)
            try await insert("kept", into: acme, in: tenancy)
            try await tenancy.backup(acme, to: path("old.backup"))
        }
        try await directory.withTenancy(migrator: .extended) { tenancy in
            try await tenancy.restore(globex, from: path("old.backup"))
            #expect(try await tenancy.migrationStatus(globex).applied == ["001_notes", "002_tags", "003_note_tags"])
            #expect(try await notes(of: globex, in: tenancy) == ["kept"])
            try await tenancy.backup(globex, to: path("new.backup"))
        }
        let initech = try TenantID("initech")
        try await directory.withTenancy(migrator: old) { tenancy async throws in
            let error = await #expect(throws: TenantedError.self) { try await tenancy.restore(initech, from: path("new.backup")) }
            #expect(error?.code == .badBackup)
            #expect(error?.description.contains("003_note_tags") == true)
            #expect(try await tenancy.tenantExists(initech) == false)
        }
    }

    @Test("every kind of bad backup file is refused with a one-line error and creates nothing")
    func badBackups() async throws {
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try await tenancy.backup(acme, to: path("good.backup"))
            let good = try Data(contentsOf: URL(fileURLWithPath: path("good.backup")))
            var random = Data(count: 4096)
            for index in random.indices { random[index] = UInt8.random(in: 0...255) }
            try random.write(to: URL(fileURLWithPath: path("random.bin")))
            try Data("hello, this is a text file\n".utf8).write(to: URL(fileURLWithPath: path("text.txt")))
            try Data().write(to: URL(fileURLWithPath: path("empty.backup")))
            try good.prefix(good.count - 100).write(to: URL(fileURLWithPath: path("truncated.backup")))
            try good.prefix(40).write(to: URL(fileURLWithPath: path("header-only.backup")))
            try (good + Data("junk".utf8)).write(to: URL(fileURLWithPath: path("longer.backup")))
            try backupRewriting(good, "store", to: "postgres-database").write(to: URL(fileURLWithPath: path("other-store.backup")))
            try FileManager.default.createDirectory(atPath: path("folder.backup"), withIntermediateDirectories: true)
            let target = try TenantID("target")
            let expectations: [(String, String)] = [
                ("missing.backup", "does not exist"),
                ("folder.backup", "is a directory"),
                ("empty.backup", "is empty"),
                ("random.bin", "is not a Tenanted backup"),
                ("text.txt", "is not a Tenanted backup"),
                ("truncated.backup", "is truncated"),
                ("header-only.backup", "is truncated or damaged"),
                ("longer.backup", "is damaged"),
                ("other-store.backup", "'postgres-database' store"),
            ]
            for (name, words) in expectations {
                let error = await #expect(throws: TenantedError.self, "\(name)") { try await tenancy.restore(target, from: path(name)) }
                #expect(error?.code == .badBackup, "\(name): \(String(describing: error))")
                #expect(error?.description.contains(words) == true, "\(name): \(String(describing: error))")
                #expect(error?.description.contains(directory.path) == false, "no path in the message")
                #expect(error?.description.contains("\n") == false)
                #expect(try await tenancy.tenantExists(target) == false, "\(name) created nothing")
                #expect(!directory.exists("storage/tenants/target"), "\(name) left nothing behind")
            }
            #expect(try await tenancy.tenants() == [acme])
        }
    }

    @Test("backup destinations: an existing file, a folder, a missing folder and an empty path are refused; a backup is owner-only")
    func backupDestinations() async throws {
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try Data("keep".utf8).write(to: URL(fileURLWithPath: path("exists.backup")))
            for destination in [path("exists.backup"), directory.path, path("no/such/folder/x.backup"), ""] {
                await expectTenantedError(.invalidConfiguration) { try await tenancy.backup(acme, to: destination) }
            }
            #expect(try String(contentsOfFile: path("exists.backup"), encoding: .utf8) == "keep", "never overwritten")
            let nobody = try TenantID("nobody")
            await expectTenantedError(.tenantNotFound) { try await tenancy.backup(nobody, to: path("n.backup")) }
            try await tenancy.backup(acme, to: path("acme.backup"))
            #expect(try mode(path("acme.backup")) == 0o600)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("snapshot") || $0.contains("partial") }
            #expect(leftovers.isEmpty)
        }
    }

    // MARK: Clone

    @Test("a clone has the source's data, and writes to one never reach the other")
    func cloneIsolation() async throws {
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try await insert("shared history", into: acme, in: tenancy)
            try await tenancy.clone(acme, to: globex)
            try await insert("acme only", into: acme, in: tenancy)
            try await insert("globex only", into: globex, in: tenancy)
            #expect(try await notes(of: acme, in: tenancy) == ["shared history", "acme only"])
            #expect(try await notes(of: globex, in: tenancy) == ["shared history", "globex only"])
            await expectTenantedError(.tenantExists) { try await tenancy.clone(acme, to: globex) }
            let nobody = try TenantID("nobody"), someone = try TenantID("someone")
            await expectTenantedError(.tenantNotFound) { try await tenancy.clone(nobody, to: someone) }
            await expectTenantedError(.invalidConfiguration) { try await tenancy.clone(acme, to: acme) }
        }
    }

    @Test("a restore or clone into a reserved name is refused by the create hooks, and creates nothing")
    func reservedNames() async throws {
        var configuration = Tenancy.Configuration()
        configuration.hooks.refuseNames(["admin"])
        let admin = try TenantID("admin")
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await tenancy.backup(acme, to: path("acme.backup"))
            await expectTenantedError(.badTenantName) { try await tenancy.restore(admin, from: path("acme.backup")) }
            await expectTenantedError(.badTenantName) { try await tenancy.clone(acme, to: admin) }
            #expect(try await tenancy.tenants() == [acme])
        }
    }

    // MARK: Suspend and resume

    @Test("a suspension is seen by another tenancy before its next scope; backup, status, resume and destroy still work")
    func suspendAndResume() async throws {
        try await directory.withTenancy { server in
            try await directory.withTenancy { command in
                try await server.createTenant(acme)
                try await server.createTenant(globex)
                try await insert("before", into: acme, in: server)
                #expect(server.pools.openCount == 1)

                try await command.suspend(acme, reason: "billing")
                #expect(try await command.suspension(of: acme) == TenantSuspension(reason: "billing"))
                let refused = await #expect(throws: TenantedError.self) { try await notes(of: acme, in: server) }
                #expect(refused?.code == .tenantSuspended)
                #expect(refused?.description.contains("billing") == false, "the reason is for debugDescription only")
                #expect(refused?.debugDescription.contains("billing") == true)
                await expectTenantedError(.tenantSuspended) { try await insert("during", into: acme, in: server) }
                #expect(try await notes(of: globex, in: server).isEmpty, "other tenants are served")
                #expect(try await server.migrationStatus(acme).pending.isEmpty, "status works")
                try await server.backup(acme, to: path("suspended.backup"))
                #expect(try await server.tenants() == [acme, globex], "still listed")

                try await command.resume(acme)
                #expect(try await command.suspension(of: acme) == nil)
                #expect(try await notes(of: acme, in: server) == ["before"])

                try await server.suspend(acme)
                try await command.destroyTenant(acme)
                #expect(try await server.tenants() == [globex])
                try await command.createTenant(acme)
                #expect(try await server.suspension(of: acme) == nil, "a new tenant of the name is not suspended")
            }
        }
    }

    @Test("suspending or resuming an unknown tenant fails; a bad reason is refused")
    func suspendBadInput() async throws {
        try await directory.withTenancy { tenancy in
            await expectTenantedError(.tenantNotFound) { try await tenancy.suspend(acme) }
            await expectTenantedError(.tenantNotFound) { try await tenancy.resume(acme) }
            await expectTenantedError(.tenantNotFound) { _ = try await tenancy.suspension(of: acme) }
            #expect(!directory.exists("storage/tenants/acme"))
            try await tenancy.createTenant(acme)
            await expectTenantedError(.invalidConfiguration) { try await tenancy.suspend(acme, reason: "two\nlines") }
            await expectTenantedError(.invalidConfiguration) { try await tenancy.suspend(acme, reason: String(repeating: "x", count: 501)) }
            #expect(try await tenancy.suspension(of: acme) == nil)
        }
    }

    // MARK: Templates

    @Test("a create copies the migrated template: migrations recorded as a migrated tenant's, a new template when they change")
    func templates() async throws {
        try await directory.withTenancy(.init(createsFromTemplate: false)) { tenancy in
            try await tenancy.createTenant(acme)
        }
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(globex)
            let migrated = try await tenancy.migrationStatus(acme)
            let copied = try await tenancy.migrationStatus(globex)
            #expect(copied.applied == migrated.applied)
            #expect(copied.pending.isEmpty)
            try await insert("globex note", into: globex, in: tenancy)
            #expect(try await notes(of: globex, in: tenancy) == ["globex note"])
        }
        let templates = try FileManager.default.contentsOfDirectory(atPath: path(".tenanted-templates"))
        #expect(templates.count == 1)
        try await directory.withTenancy(migrator: .extended) { tenancy in
            let initech = try TenantID("initech")
            try await tenancy.createTenant(initech)
            #expect(try await tenancy.migrationStatus(initech).applied == ["001_notes", "002_tags", "003_note_tags"])
            await expectTenantedError(.tenantExists) { try await tenancy.createTenant(initech) }
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: path(".tenanted-templates"))
        #expect(after.count == 1 && after != templates, "the old migration set's template was replaced: \(after)")
    }

    @Test("a seed runs on the template's copy before the tenant is visible; a failing seed leaves nothing")
    func templateWithSeed() async throws {
        let seed: TenantSeed<SQLitePool> = { tenant, pool in
            if tenant.rawValue == "broken" { throw TenantedError(.misuse, "seed failed") }
            _ = try await pool.write { try await $0.query("INSERT INTO notes (body) VALUES ('welcome')") }
        }
        try await directory.withTenancy(seed: seed) { tenancy in
            try await tenancy.createTenant(acme)
            #expect(try await notes(of: acme, in: tenancy) == ["welcome"])
            let broken = try TenantID("broken")
            await expectTenantedError(.misuse) { try await tenancy.createTenant(broken) }
            #expect(try await tenancy.tenants() == [acme])
            #expect(!directory.exists("storage/tenants/broken"))
        }
    }

    // MARK: Owner-only files

    @Test("tenant files are 0600 and folders 0700 whatever the umask; group-readable on request")
    func ownerOnlyFiles() async throws {
        let previous = umask(0)
        defer { umask(previous) }
        try await directory.withTenancy { tenancy in
            try await tenancy.createTenant(acme)
            try await insert("x", into: acme, in: tenancy)
            for file in ["main.sqlite3", "main.sqlite3.lock", "main.sqlite3-wal", "main.sqlite3-shm"] {
                #expect(try mode(path("storage/tenants/acme/" + file)) == 0o600, "\(file)")
            }
            try await tenancy.suspend(acme)
            #expect(try mode(path("storage/tenants/acme/main.sqlite3.suspended")) == 0o600)
            #expect(try mode(path("storage/tenants/acme")) == 0o700)
            #expect(try mode(path(".tenanted-templates")) == 0o700)
            for template in try FileManager.default.contentsOfDirectory(atPath: path(".tenanted-templates")) {
                #expect(try mode(path(".tenanted-templates/" + template)) == 0o600)
            }
            try await tenancy.backup(acme, to: path("acme.backup"))
            #expect(try mode(path("acme.backup")) == 0o600)
        }
        let store = try SQLiteStore(configuration: .init(root: path("group"), filePermissions: .groupReadable))
        let tenancy = try Tenancy(store: store, migrator: SQLMigrator.base, logger: .silent)
        try await withTeardown {
            try await tenancy.createTenant(acme)
            #expect(try mode(store.databasePath(for: acme)) == 0o640)
            #expect(try mode(TenantFilesPath.parent(store.databasePath(for: acme))) == 0o750)
        } teardown: {
            await tenancy.shutdown()
        }
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }
}

private enum TenantFilesPath {
    static func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }
}
