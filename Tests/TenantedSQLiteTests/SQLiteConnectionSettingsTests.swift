import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

/// The settings of one connection, read back with PRAGMAs.
struct ConnectionSettings: Equatable, Sendable {
    var journalMode: String?
    var synchronous: Int?
    var busyTimeout: Int?
    var foreignKeys: Int?
    var queryOnly: Int?

    static func read(from connection: SQLiteConnection) async throws -> ConnectionSettings {
        func integer(_ pragma: String) async throws -> Int? {
            try await connection.scalar("PRAGMA \(pragma)")?.integer.map { Int($0) }
        }
        let journalMode = try await connection.scalar("PRAGMA journal_mode")?.string
        return ConnectionSettings(
            journalMode: journalMode,
            synchronous: try await integer("synchronous"),
            busyTimeout: try await integer("busy_timeout"),
            foreignKeys: try await integer("foreign_keys"),
            queryOnly: try await integer("query_only")
        )
    }

    /// What Tenanted sets on every connection (`synchronous` 1 is NORMAL).
    static func expected(busyTimeout: Int, reader: Bool) -> ConnectionSettings {
        ConnectionSettings(journalMode: "wal", synchronous: 1, busyTimeout: busyTimeout, foreignKeys: 1, queryOnly: reader ? 1 : 0)
    }
}

@Suite("SQLite store: per-connection settings")
struct SQLiteConnectionSettingsTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("the writer runs in WAL mode with synchronous NORMAL, the busy timeout and foreign keys on")
    func writerSettings() async throws {
        let store = try directory.store { $0.busyTimeout = .milliseconds(1234) }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            let settings = try await pool.write { try await ConnectionSettings.read(from: $0) }
            #expect(settings == .expected(busyTimeout: 1234, reader: false))
        }
        let pool = try await store.open(acme)
        let settings = try await pool.write { try await ConnectionSettings.read(from: $0) }
        await store.close(pool)
        #expect(settings == .expected(busyTimeout: 1234, reader: false))
    }

    @Test("readers have the same settings and are query-only: a write through read fails")
    func readerSettings() async throws {
        let store = try directory.store { $0.busyTimeout = .seconds(2) }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        let pool = try await store.open(acme)
        // Holding the writer sends reads to readers; nested reads hold two readers at once, so both
        // reader connections are checked.
        let (outer, inner, distinct) = try await pool.write { _ in
            try await pool.read { first in
                try await pool.read { second in
                    (
                        try await ConnectionSettings.read(from: first),
                        try await ConnectionSettings.read(from: second),
                        first !== second
                    )
                }
            }
        }
        #expect(distinct)
        #expect(outer == .expected(busyTimeout: 2000, reader: true))
        #expect(inner == .expected(busyTimeout: 2000, reader: true))

        await #expect(throws: SQLiteError.self) {
            try await pool.write { _ in
                try await pool.read { _ = try await $0.query("INSERT INTO t VALUES (1)") }
            }
        }
        let count = try await pool.write { connection in
            _ = try await connection.query("INSERT INTO t VALUES (1)")
            return try await connection.scalar("SELECT count(*) FROM t")?.integer
        }
        #expect(count == 1)
        await store.close(pool)
    }

    @Test("a read takes an idle open reader, else the idle writer, else a new reader")
    func readPlacement() async throws {
        let store = try directory.store()
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
        }
        let warm = try await store.open(acme)  // opening a pool opens its writer
        // The writer is open and idle, no reader is open: the read uses the writer, opening nothing.
        let (onWriter, writerConnection) = try await warm.read { ($0.isClosed == false, ObjectIdentifier($0)) }
        let sameAsWriter = try await warm.write { ObjectIdentifier($0) == writerConnection }
        #expect(onWriter && sameAsWriter)
        // The writer busy: a reader opens; once open and idle, it is preferred over the idle writer.
        let readerConnection = try await warm.write { _ in try await warm.read { ObjectIdentifier($0) } }
        let preferred = try await warm.read { ObjectIdentifier($0) }
        #expect(readerConnection != writerConnection)
        #expect(preferred == readerConnection)
        await store.close(warm)
    }

    @Test("with no readers configured, reads go to the writer")
    func noReaders() async throws {
        let store = try directory.store { $0.maximumReaders = 0 }
        let acme = try TenantID("acme")
        try await store.create(acme) { pool in
            try await pool.write { _ = try await $0.query("CREATE TABLE t (x)") }
            let settings = try await pool.read { try await ConnectionSettings.read(from: $0) }
            #expect(settings.queryOnly == 0)
            try await pool.read { _ = try await $0.query("INSERT INTO t VALUES (1)") }
        }
    }

    @Test("foreign keys are enforced")
    func foreignKeysEnforced() async throws {
        let store = try directory.store()
        try await store.create(try TenantID("acme")) { pool in
            try await pool.write { connection in
                try await connection.execute([
                    "CREATE TABLE parents (id INTEGER PRIMARY KEY)",
                    "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id))",
                ])
                await #expect(throws: SQLiteError.self) {
                    _ = try await connection.query("INSERT INTO children (id, parent_id) VALUES (1, 42)")
                }
            }
        }
    }

    @Test("prepareConnection runs once on every new connection, after Tenanted's settings")
    func prepareConnectionHook() async throws {
        let seen = Locked<[ConnectionSettings]>([])
        let store = try directory.store { configuration in
            configuration.busyTimeout = .milliseconds(750)
            configuration.prepareConnection = { connection in
                let settings = try await ConnectionSettings.read(from: connection)
                seen.append(settings)
                _ = try await connection.query("PRAGMA cache_size = -1234")
            }
        }
        let acme = try TenantID("acme")
        try await store.create(acme) { _ in }
        seen.withLock { $0 = [] }

        let pool = try await store.open(acme)
        let cacheSizes = try await pool.write { writer in
            try await pool.read { first in
                try await pool.read { second in
                    [
                        try await writer.scalar("PRAGMA cache_size")?.integer,
                        try await first.scalar("PRAGMA cache_size")?.integer,
                        try await second.scalar("PRAGMA cache_size")?.integer,
                    ]
                }
            }
        }
        // Connections are reused: more work opens nothing new.
        for _ in 0..<5 {
            _ = try await pool.read { try await $0.scalar("SELECT 1") }
            _ = try await pool.write { try await $0.scalar("SELECT 1") }
        }
        await store.close(pool)

        #expect(cacheSizes == [-1234, -1234, -1234])
        let settings = seen.value
        #expect(settings.count == 3)
        #expect(settings.filter { $0 == .expected(busyTimeout: 750, reader: false) }.count == 1)
        #expect(settings.filter { $0 == .expected(busyTimeout: 750, reader: true) }.count == 2)
    }

    @Test("a failing prepareConnection fails the open and leaves the tenant intact")
    func failingHook() async throws {
        let acme = try TenantID("acme")
        try await directory.store().create(acme) { _ in }
        let store = try directory.store { $0.prepareConnection = { _ in throw PrepareFailure() } }
        await #expect(throws: (any Error).self) { try await store.open(acme) }
        #expect(try await store.exists(acme))
        let pool = try await directory.store().open(acme)
        await pool.close()
    }
}
