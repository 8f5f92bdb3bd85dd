import TenantedTestSupport
import Tenanted
import TenantedSQLite
import Testing

@Suite("One-level bucketed path templates (%{bucket1})")
struct OneLevelBucketTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("%{bucket1} is one folder: the first of %{bucket}'s two levels")
    func oneLevel() throws {
        let flat = try directory.store(template: "t/%{bucket1}/%{tenant}.sqlite3")
        let nested = try directory.store(template: "t/%{bucket1}/%{tenant}/db.sqlite3")
        let two = try directory.store(template: "t/%{bucket}/%{tenant}.sqlite3")
        // Hard-coded: FNV-1a("acme") = 0x45fd71af.
        #expect(flat.databasePath(for: try TenantID("acme")) == directory.path + "/t/45/acme.sqlite3")
        #expect(nested.databasePath(for: try TenantID("acme")) == directory.path + "/t/45/acme/db.sqlite3")
        for name in ["a", "acme", "globex", "tenant-0042", "z_9"] {
            let (first, second) = BucketTests.expectedBucket(of: name)
            let tenant = try TenantID(name)
            #expect(flat.databasePath(for: tenant) == directory.path + "/t/\(first)/\(name).sqlite3")
            #expect(two.databasePath(for: tenant) == directory.path + "/t/\(first)/\(second)/\(name).sqlite3")
        }
    }

    @Test("tenants with their files directly in the bucket folder are created, listed, paged and destroyed")
    func flatLayout() async throws {
        let store = try directory.store(template: "t/%{bucket1}/%{tenant}.sqlite3")
        let names = (100..<160).map { "tenant-\($0)" } + ["acme"]
        for name in names { try await store.create(try TenantID(name)) { _ in } }
        #expect(try await store.tenants().map(\.rawValue) == names.sorted())
        #expect(directory.exists("t/45/acme.sqlite3"))
        #expect(directory.exists("t/45/acme.sqlite3.lock"))
        #expect(try await store.tenants(matching: try TenantListQuery(limit: 3)).map(\.rawValue) == Array(names.sorted().prefix(3)))

        // A tenant's file in the wrong bucket, a lone ready-lock, SQLite's side files, a folder
        // named like a database, upper case and a bucket that is not hex: none is a tenant.
        let (hooliBucket, _) = BucketTests.expectedBucket(of: "hooli")
        let wrong = hooliBucket == "00" ? "01" : "00"
        for stray in [
            "t/\(wrong)/hooli.sqlite3", "t/45/initech.sqlite3.lock", "t/45/acme.sqlite3-wal", "t/45/acme.sqlite3-shm",
            "t/45/acme.sqlite3.creating", "t/45/umbrella.sqlite3/x", "t/45/ACME2.sqlite3", "t/g5/acme.sqlite3",
        ] {
            try directory.makeFile(stray)
        }
        #expect(try await store.tenants().map(\.rawValue) == names.sorted())
        #expect(try await store.exists(try TenantID("hooli")) == false)

        // A destroy removes the tenant's files and keeps the shared bucket folder.
        try await store.destroy(try TenantID("acme"))
        #expect(!directory.exists("t/45/acme.sqlite3"))
        #expect(!directory.exists("t/45/acme.sqlite3.lock"))
        #expect(directory.exists("t/45"))
        #expect(try await store.tenants().map(\.rawValue) == names.sorted().filter { $0 != "acme" })
    }

    @Test("a tenant being created is not listed in the flat layout")
    func halfCreatedIsInvisible() async throws {
        let store = try directory.store(template: "t/%{bucket1}/%{tenant}.sqlite3")
        let acme = try TenantID("acme")
        try await store.create(acme) { _ in
            let listed = try await store.tenants()
            let exists = try await store.exists(acme)
            #expect(listed.isEmpty)
            #expect(!exists)
        }
        #expect(try await store.tenants() == [acme])
    }
}
