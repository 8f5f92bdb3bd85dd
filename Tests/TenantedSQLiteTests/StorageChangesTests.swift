import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// A lease of an open pool skips the `stat` and `access` of its full check while the storage's change
/// counter has not moved (`StorageChanges`). Two stores over one storage map the counter file
/// separately, as two processes do; the last test uses a real second process, the demo's `tenants`
/// command. Every store here trusts a full check for an hour, so only the counter can tell a pool
/// that its tenant changed.
@Suite("SQLite: the storage's change counter")
struct StorageChangesTests {
    let directory: TemporaryDirectory
    let acme: TenantID

    init() throws {
        directory = try TemporaryDirectory()
        acme = try TenantID("acme")
    }

    private func store(interval: Duration = .seconds(3600)) throws -> SQLiteStore {
        try directory.store { $0.fullCheckInterval = interval }
    }

    @Test("a destroy, a re-create and a suspension through another store are seen on the next lease, however long the interval")
    func changesThroughAnotherStore() async throws {
        let server = try store(), command = try store()
        try await command.create(acme) { _ in }
        let first = try await server.open(acme)
        #expect(server.isCurrent(first))
        #expect(server.isCurrent(first), "nothing changed: the counter did not move")

        try await command.destroy(acme)
        #expect(!server.isCurrent(first), "the destroy moved the counter")
        try await command.create(acme) { _ in }
        #expect(!server.isCurrent(first), "a re-created tenant is another file")
        await server.close(first)

        let second = try await server.open(acme)
        #expect(server.isCurrent(second))
        try await command.suspend(acme, reason: "unpaid")
        #expect(!server.isCurrent(second), "the suspension moved the counter")
        try await command.resume(acme)
        #expect(server.isCurrent(second), "resumed: the same file, no marker")
        await server.close(second)
        #expect(directory.exists("storage/tenants/.tenanted-changes"), "the counter sits beside the tenants' folders")
    }

    @Test("a change behind the store's back is not seen before the interval (reads trust the counter), but writes refuse it at once")
    func handMadeChangeWithinTheInterval() async throws {
        let server = try store()
        try await server.create(acme) { _ in }
        let pool = try await server.open(acme)
        #expect(server.isCurrent(pool))
        try "by hand".write(toFile: server.databasePath(for: acme) + ".suspended", atomically: true, encoding: .utf8)
        #expect(server.isCurrent(pool), "no store moved the counter and the last full check is recent")
        #expect(!pool.isCurrent, "the full check itself sees the marker")
        await #expect(throws: TenantedError.self) {
            try await pool.write { _ = try await $0.query("CREATE TABLE notes (body TEXT)") }
        }
        await server.close(pool)
    }

    @Test("a change behind the store's back is seen once the last full check is older than the interval")
    func handMadeChangeAfterTheInterval() async throws {
        let server = try store(interval: .milliseconds(100))
        try await server.create(acme) { _ in }
        let pool = try await server.open(acme)
        #expect(server.isCurrent(pool))
        try FileManager.default.removeItem(atPath: server.databasePath(for: acme))
        try await Task.sleep(for: .milliseconds(250))
        #expect(!server.isCurrent(pool))
        await server.close(pool)
    }

    @Test("with a zero interval every lease runs the full check, and the store's changes still move the counter")
    func zeroIntervalChecksEveryLease() async throws {
        let server = try store(interval: .zero), other = try store()
        try await server.create(acme) { _ in }
        let pool = try await server.open(acme)
        #expect(server.isCurrent(pool))
        try "by hand".write(toFile: server.databasePath(for: acme) + ".suspended", atomically: true, encoding: .utf8)
        #expect(!server.isCurrent(pool))
        await server.close(pool)

        try FileManager.default.removeItem(atPath: server.databasePath(for: acme) + ".suspended")
        let trusting = try await other.open(acme)
        #expect(other.isCurrent(trusting))
        try await server.destroy(acme)
        #expect(!other.isCurrent(trusting), "a store that never trusts the counter still moves it")
        await other.close(trusting)
    }

    @Test("a negative interval is refused")
    func negativeInterval() throws {
        let error = #expect(throws: TenantedError.self) { try store(interval: .milliseconds(-1)) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test(
        "the tenants command's destroy and suspend, in another process, are seen through the counter",
        .enabled(if: DemoProcess.isBuilt, "build tenanted-demo first (scripts/test does)")
    )
    func changesByAnotherProcess() async throws {
        let storage = directory.appending("storage")
        let command = DemoProcess(storage: storage)
        let server = try SQLiteStore(configuration: .init(root: storage, pathTemplate: "tenants/%{tenant}/main.sqlite3", logger: .silent, fullCheckInterval: .seconds(3600)))
        #expect(try await command.run(["tenants", "create", "acme"]).status == 0)

        let first = try await server.open(acme)
        #expect(server.isCurrent(first))
        #expect(try await command.run(["tenants", "suspend", "acme"]).status == 0)
        #expect(!server.isCurrent(first), "the other process's suspension moved the counter")
        #expect(try await command.run(["tenants", "resume", "acme"]).status == 0)
        #expect(server.isCurrent(first))

        #expect(try await command.run(["tenants", "destroy", "acme"]).status == 0)
        #expect(!server.isCurrent(first), "the other process's destroy moved the counter")
        await server.close(first)
        await #expect(throws: TenantedError.self) { _ = try await server.open(acme) }
    }
}
