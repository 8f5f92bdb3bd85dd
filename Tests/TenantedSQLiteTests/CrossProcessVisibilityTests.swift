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

    /// A child process started while a create held the tenant's ready-lock (between `fork` and
    /// `exec`) holds a copy of the lock's descriptor for that moment. Closing this process's
    /// descriptor alone would then leave the lock held by the child's copy, and a destroy or a
    /// lookup right after the create saw the tenant as being destroyed (`tenantNotFound`; seen in
    /// a loaded full run). The copy is made here with `dup`, the same sharing `fork` makes, and kept
    /// open past the create: the release must still let go.
    @Test("a copy of the ready-lock's descriptor (a child forked during the create) does not keep the tenant hidden")
    func aForkedCopyOfTheLockDoesNotOutliveTheCreate() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        let lockPath = store.databasePath(for: acme) + ".lock"
        let copy = Locked<Int32>(-1)
        try await store.create(acme) { _ in
            copy.withLock { $0 = Self.duplicateDescriptor(of: lockPath) }
        }
        let descriptor = copy.value
        try #require(descriptor >= 0, "no open descriptor of the ready-lock during the create")
        defer { close(descriptor) }
        #expect(try await store.exists(acme), "the tenant is hidden while a forked copy of its create's lock lives")
        #expect(try await store.tenants() == [acme])
        try await store.destroy(acme)
        #expect(try await store.exists(acme) == false)
    }

    /// A duplicate of this process's open descriptor of `path` (found in `/proc/self/fd`), or -1.
    private static func duplicateDescriptor(of path: String) -> Int32 {
        let wanted = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry),
                  target == wanted || target == path, let number = Int32(entry) else { continue }
            return dup(number)
        }
        return -1
    }
}
