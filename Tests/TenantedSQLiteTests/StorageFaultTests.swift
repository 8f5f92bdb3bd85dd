import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 7, test 7: a storage directory that is full or read-only. A small tmpfs makes the fault
/// real (mounting one needs CAP_SYS_ADMIN, which root in a CI container usually has); without it, a
/// non-root user gets a read-only directory instead, and the full-disk test is skipped.
@Suite("Storage faults")
struct StorageFaultTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    static let canMount: Bool = {
        guard let probe = try? TemporaryDirectory() else { return false }
        guard mountTmpfs(at: probe.path, size: "64k") else { return false }
        umount2(probe.path, Int32(MNT_DETACH))
        return true
    }()

    static func mountTmpfs(at path: String, size: String, readOnly: Bool = false, remount: Bool = false) -> Bool {
        // MS_RDONLY = 1, MS_REMOUNT = 32 (<sys/mount.h>).
        let flags = UInt((readOnly ? 1 : 0) | (remount ? 32 : 0))
        return "size=\(size)".withCString { mount("tmpfs", path, "tmpfs", flags, $0) } == 0
    }

    /// Fills the file system at `path` completely, with a file named `filler`.
    static func fill(_ path: String) {
        let descriptor = open(path + "/filler", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    static func tenancy(root: String) throws -> Tenancy {
        try Tenancy(store: try SQLiteStore(configuration: .init(root: root, logger: .silent)), migrator: SQLMigrator.base, logger: .silent)
    }

    @Test(
        "with any amount of space left, a create either completes or fails with a clear error and no trace",
        .enabled(if: canMount, "needs permission to mount a tmpfs")
    )
    func fullDisk() async throws {
        let root = directory.appending("small")
        try directory.makeDirectory("small")
        try #require(Self.mountTmpfs(at: root, size: "256k"))
        defer { umount2(root, Int32(MNT_DETACH)) }
        let acme = try TenantID("acme")
        var failed: [Int] = []
        var completed: [Int] = []
        for freeBlocks in [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32] {
            Self.fill(root)
            // Give back `freeBlocks` pages.
            if freeBlocks > 0 {
                var info = stat()
                stat(root + "/filler", &info)
                truncate(root + "/filler", max(0, info.st_size - off_t(freeBlocks * 4096)))
            }
            let before = directory.contents()
            let tenancy = try Self.tenancy(root: root)
            do {
                try await tenancy.createTenant(acme)
                // Complete: it opens with its schema.
                try await tenancy.withTenant(acme) {
                    _ = try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.query("SELECT count(*) FROM notes") }
                }
                unlink(root + "/filler")
                try await tenancy.destroyTenant(acme)
                completed.append(freeBlocks)
            } catch let error as TenantedError {
                failed.append(freeBlocks)
                #expect([.storeFailure, .migrationFailed].contains(error.code), "\(String(reflecting: error))")
                #expect(error.tenant == acme)
                // SQLite's own words for a full disk: SQLITE_FULL, or SQLITE_IOERR_SHMSIZE when the -shm file cannot grow.
                let detail = String(reflecting: error)
                #expect(detail.contains("database or disk is full") || detail.contains("disk I/O error"), "\(detail)")
                #expect(try await tenancy.tenantExists(acme) == false)
                #expect(try await tenancy.tenants().isEmpty)
                // Only the template's shared directories (`storage/tenants/`) may stay: nothing of the tenant.
                let left = directory.contents().subtracting(before)
                #expect(left.allSatisfy { $0.hasSuffix("/") && !$0.contains("acme") }, "with \(freeBlocks) free pages, the failed create left \(left)")
            }
            await tenancy.shutdown()
            unlink(root + "/filler")
        }
        print("full disk: creates failed cleanly with \(failed) free pages, completed with \(completed)")
        #expect(failed.first == 0, "a full disk must make the create fail")
        // With the space back, the same create succeeds.
        let tenancy = try Self.tenancy(root: root)
        do {
            #expect(try await tenancy.createTenant(acme))
        } catch {
            Issue.record("\(String(reflecting: error)) \(directory.contents())")
        }
        await tenancy.shutdown()
    }

    @Test(
        "on a read-only storage directory, a create fails with a clear error, creates nothing, and existing tenants stay",
        .enabled(if: canMount || getuid() != 0, "needs a tmpfs mount, or a non-root user for a read-only directory")
    )
    func readOnlyStorage() async throws {
        let root = directory.appending("ro")
        try directory.makeDirectory("ro")
        let mounted = Self.canMount
        if mounted { try #require(Self.mountTmpfs(at: root, size: "1m")) }
        defer { if mounted { umount2(root, Int32(MNT_DETACH)) } else { chmod(root, 0o755) } }
        let acme = try TenantID("acme"), globex = try TenantID("globex")
        let first = try Self.tenancy(root: root)
        try await first.createTenant(acme)
        await first.shutdown()
        if mounted {
            // EBUSY while a file on it is open for writing: also while a child process another test
            // starts (between fork and exec) holds copies of this process's descriptors. Ask again.
            var remounted = false
            for _ in 0..<100 where !remounted {
                remounted = Self.mountTmpfs(at: root, size: "1m", readOnly: true, remount: true)
                if !remounted { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(remounted)
        } else {
            chmod(root + "/storage/tenants", 0o555)
            chmod(root + "/storage/tenants/acme", 0o555)
        }
        let before = directory.contents()
        let tenancy = try Self.tenancy(root: root)
        let error = await #expect(throws: TenantedError.self) { try await tenancy.createTenant(globex) }
        #expect(error?.code == .storeFailure, "\(String(reflecting: error))")
        #expect(error?.tenant == globex)
        #expect(try await tenancy.tenants() == [acme])
        #expect(directory.contents() == before, "a failed create changed the storage")
        // The existing tenant: readable, or a clear TenantedError (a WAL database needs its -shm file) — never a crash.
        do {
            try await tenancy.withTenant(acme) {
                _ = try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.query("SELECT count(*) FROM notes") }
            }
        } catch {
            #expect(error is TenantedError, "\(String(reflecting: error))")
        }
        await tenancy.shutdown()
    }
}
