import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

/// An error of the test's own, to see that the store rethrows what `prepare` threw.
struct PrepareFailure: Error, Equatable {}

@Suite("SQLite store: create, open, destroy")
struct SQLiteStoreLifecycleTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("a created tenant exists, is listed, opens with its data, and is gone after destroy")
    func roundTrip() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        #expect(try await store.exists(acme) == false)

        try await store.create(acme) { pool in
            try await pool.write { connection in
                try await connection.execute([
                    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
                    "INSERT INTO notes (id, body) VALUES (1, 'hello')",
                ])
            }
        }
        #expect(try await store.exists(acme))
        #expect(try await store.tenants() == [acme])
        #expect(directory.exists("storage/tenants/acme/main.sqlite3"))
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3.creating"))

        let pool = try await store.open(acme)
        #expect(pool.tenant == acme)
        let body = try await pool.read { try await $0.scalar("SELECT body FROM notes WHERE id = 1") }
        #expect(body?.string == "hello")
        await store.close(pool)

        try await store.destroy(acme)
        #expect(try await store.exists(acme) == false)
        #expect(try await store.tenants() == [])
        #expect(directory.contents() == ["storage/", "storage/tenants/"])
    }

    @Test("creating an existing tenant throws tenantExists and leaves its data alone")
    func duplicateCreate() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { connection in
                try await connection.execute([
                    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
                    "INSERT INTO notes (id, body) VALUES (1, 'original')",
                ])
            }
        }
        let before = directory.contents()

        let prepared = Gate()
        let error = await #expect(throws: TenantedError.self) {
            try await store.create(acme) { pool in
                prepared.open()
                try await pool.write { _ = try await $0.query("DROP TABLE notes") }
            }
        }
        #expect(error?.code == .tenantExists)
        #expect(error?.tenant == acme)
        #expect(!prepared.isOpen)
        #expect(directory.contents() == before)
        #expect(try await store.exists(acme))

        let pool = try await store.open(acme)
        let body = try await pool.read { try await $0.scalar("SELECT body FROM notes WHERE id = 1") }
        await store.close(pool)
        #expect(body?.string == "original")
    }

    @Test("destroy removes the database, its -wal, -shm and lock files and the tenant's own directory")
    func destroyRemovesEverything() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        let globex = try TenantID("globex")
        try await store.create(acme) { _ in }
        try await store.create(globex) { _ in }

        let pool = try await store.open(acme)
        try await pool.write { connection in
            try await connection.execute(["CREATE TABLE t (x)", "INSERT INTO t VALUES (1)"])
        }
        // While a connection is open, SQLite keeps its WAL files beside the database.
        #expect(directory.exists("storage/tenants/acme/main.sqlite3-wal"))
        #expect(directory.exists("storage/tenants/acme/main.sqlite3-shm"))
        #expect(directory.exists("storage/tenants/acme/main.sqlite3.lock"))
        await store.close(pool)
        // A process that died with the database open leaves them behind.
        try directory.makeFile("storage/tenants/acme/main.sqlite3-wal", text: "")
        try directory.makeFile("storage/tenants/acme/main.sqlite3-shm", text: "")

        try await store.destroy(acme)
        #expect(!directory.exists("storage/tenants/acme"))
        #expect(directory.contents().filter { $0.hasPrefix("storage/tenants/acme") }.isEmpty)
        #expect(directory.exists("storage/tenants/"))
        #expect(try await store.tenants() == [globex])

        try await store.destroy(globex)
        #expect(directory.contents() == ["storage/", "storage/tenants/"])
    }

    @Test("destroying a tenant that does not exist throws tenantNotFound and creates nothing")
    func destroyMissing() async throws {
        let store = try directory.store()
        let ghost = try TenantID("ghost")

        let error = await #expect(throws: TenantedError.self) { try await store.destroy(ghost) }
        #expect(error?.code == .tenantNotFound)
        #expect(directory.contents() == [])

        try await store.create(try TenantID("acme")) { _ in }
        let before = directory.contents()
        let again = await #expect(throws: TenantedError.self) { try await store.destroy(ghost) }
        #expect(again?.code == .tenantNotFound)
        #expect(directory.contents() == before)
    }

    @Test("opening a tenant that does not exist throws tenantNotFound and creates no file or directory")
    func openMissing() async throws {
        let store = try directory.store()
        let ghost = try TenantID("ghost")

        let error = await #expect(throws: TenantedError.self) { try await store.open(ghost) }
        #expect(error?.code == .tenantNotFound)
        #expect(error?.tenant == ghost)
        #expect(directory.contents() == [])

        try await store.create(try TenantID("acme")) { _ in }
        let before = directory.contents()
        let again = await #expect(throws: TenantedError.self) { try await store.open(ghost) }
        #expect(again?.code == .tenantNotFound)
        #expect(directory.contents() == before)
    }

    @Test("asking whether a missing tenant exists creates nothing")
    func existsMissing() async throws {
        let store = try directory.store()
        let ghost = try TenantID("ghost")
        #expect(try await store.exists(ghost) == false)
        #expect(try await store.tenants() == [])
        #expect(directory.contents() == [])
    }

    @Test("a prepare that throws rolls the create back: the error is rethrown and no trace remains")
    func createRollback() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")

        await #expect(throws: PrepareFailure.self) {
            try await store.create(acme) { pool in
                try await pool.write { connection in
                    try await connection.execute([
                        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
                        "INSERT INTO notes (id, body) VALUES (1, 'half made')",
                    ])
                }
                _ = try await pool.read { try await $0.scalar("SELECT count(*) FROM notes") }
                throw PrepareFailure()
            }
        }
        #expect(try await store.exists(acme) == false)
        #expect(try await store.tenants() == [])
        // Only the shared parent directories may remain.
        #expect(directory.contents().isSubset(of: ["storage/", "storage/tenants/"]))
        let error = await #expect(throws: TenantedError.self) { try await store.open(acme) }
        #expect(error?.code == .tenantNotFound)

        // The name is free again.
        try await store.create(acme) { pool in
            let tables = try await pool.read { try await $0.strings("SELECT name FROM sqlite_master") }
            #expect(tables.isEmpty)
        }
        #expect(try await store.tenants() == [acme])
    }

    @Test("a prepare that throws a store error is rolled back the same way")
    func createRollbackOnSQLError() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        await #expect(throws: SQLiteError.self) {
            try await store.create(acme) { pool in
                try await pool.write { _ = try await $0.query("CREATE TABLE broken (") }
            }
        }
        #expect(try await store.exists(acme) == false)
        #expect(directory.contents().isSubset(of: ["storage/", "storage/tenants/"]))
    }

    @Test("while prepare runs, the tenant does not exist, is not listed and cannot be opened")
    func hiddenWhileCreating() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        let globex = try TenantID("globex")
        try await store.create(globex) { _ in }

        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
            #expect(try await store.exists(acme) == false)
            #expect(try await store.tenants() == [globex])
            let error = await #expect(throws: TenantedError.self) { try await store.open(acme) }
            #expect(error?.code == .tenantNotFound)
            // Another store on the same root (as another process would) sees the same.
            let other = try directory.store()
            #expect(try await other.exists(acme) == false)
            #expect(try await other.tenants() == [globex])
        }
        #expect(try await store.exists(acme))
        #expect(try await store.tenants() == [acme, globex])
    }

    @Test("a half-made file left by a crashed creator is invisible and a new create replaces it")
    func leftoverFromCrashedCreator() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try directory.makeFile("storage/tenants/acme/main.sqlite3.creating", text: "half written, not a database")
        try directory.makeFile("storage/tenants/acme/main.sqlite3.creating-wal", text: "")

        #expect(try await store.exists(acme) == false)
        #expect(try await store.tenants() == [])
        let error = await #expect(throws: TenantedError.self) { try await store.open(acme) }
        #expect(error?.code == .tenantNotFound)

        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        #expect(try await store.exists(acme))
        #expect(try await store.tenants() == [acme])
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3.creating"))
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3.creating-wal"))
        let pool = try await store.open(acme)
        let tables = try await pool.read { try await $0.strings("SELECT name FROM sqlite_master") }
        await store.close(pool)
        #expect(tables == ["t"])
    }

    @Test("concurrent creates of one tenant: exactly one wins, the others get tenantExists")
    func concurrentCreates() async throws {
        // A thread pool of its own, as small as the store's default on a 2-core machine, so a
        // regression that blocks its threads cannot starve the rest of the suite.
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        let store = try directory.store { $0.threadPool = threads }
        let acme = try TenantID("acme")
        let outcomes = try await withGuard("four concurrent creates") {
            await withTaskGroup(of: Swift.Result<Void, any Error>.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        await Swift.Result(catching: {
                            try await store.create(acme) { pool in
                                try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
                            }
                        })
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        let results = try #require(outcomes)
        let wins = results.filter { if case .success = $0 { true } else { false } }
        let losses = results.compactMap { result -> TenantedError.Code? in
            guard case .failure(let error) = result else { return nil }
            return (error as? TenantedError)?.code
        }
        #expect(wins.count == 1)
        #expect(losses == [.tenantExists, .tenantExists, .tenantExists])
        #expect(try await store.tenants() == [acme])
        try await threads.shutdownGracefully()
    }
}
