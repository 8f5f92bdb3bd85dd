import TenantedTestSupport
import Foundation
import Tenanted
import TenantedSQLite
import Testing

/// The ready-lock is an `flock`, so it hides a tenant from *other processes* too. Here another
/// process (util-linux's `flock`) holds a tenant's ready-lock, as a creator or destroyer in another
/// process would, and this process must not see the tenant until it lets go.
@Suite("Ready-lock across processes")
struct CrossProcessVisibilityTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test(
        "a tenant whose ready-lock another process holds is neither listed nor existing",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "needs util-linux flock")
    )
    func hiddenWhileLockedElsewhere() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { _ in }
        #expect(try await store.exists(acme))

        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["--exclusive", store.databasePath(for: acme) + ".lock", "--command", "echo locked; read -r _"]
        // The holder keeps the lock until its standard input closes.
        let input = Pipe()
        let output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        // Wait until the other process says it holds the lock.
        let said = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        try #require(said.hasPrefix("locked"), "the other process did not take the lock")

        #expect(try await store.exists(acme) == false)
        #expect(try await store.tenants().contains(acme) == false)
        await #expect {
            _ = try await store.open(acme)
        } throws: { error in
            (error as? TenantedError)?.code == .tenantNotFound
        }

        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(try await store.exists(acme))
        #expect(try await store.tenants() == [acme])
        // The open's check of the lock lets go with it too.
        let pool = try await store.open(acme)
        await store.close(pool)
    }
}
