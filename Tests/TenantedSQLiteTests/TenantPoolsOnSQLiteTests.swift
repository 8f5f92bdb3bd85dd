import TenantedTestSupport
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

@Suite("Tenancy on the SQLite store: open pools")
struct TenantPoolsOnSQLiteTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test("past maximumOpenPools the least recently used idle pool is evicted, and its data survives reopening")
    func leastRecentlyUsedEviction() async throws {
        let delegate = RecordingDelegate()
        let configuration = Tenancy.Configuration(pools: .init(maximumOpenPools: 3))
        try await directory.withTenancy(configuration, delegate: delegate) { tenancy async throws in
            let tenants = try ["t1", "t2", "t3", "t4"].map { try TenantID($0) }
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            #expect(tenancy.pools.openCount == 0)

            for tenant in tenants {
                try await tenancy.withTenant(tenant) {
                    try await currentPool().write { connection in
                        _ = try await connection.query("INSERT INTO notes (id, body) VALUES (1, ?)", [.text("\(tenant)")])
                    }
                }
            }
            #expect(tenancy.pools.openCount == 3)
            #expect(tenancy.pools.openTenants == Array(tenants[1...]))
            #expect(delegate.events.contains(.closed(tenants[0], .evicted)))

            let body = try await tenancy.withTenant(tenants[0]) {
                try await currentPool().read { try await $0.scalar("SELECT body FROM notes WHERE id = 1")?.string }
            }
            #expect(body == "t1")
            #expect(tenancy.pools.openTenants == [tenants[2], tenants[3], tenants[0]])
            #expect(delegate.opens(of: tenants[0]) == 2)
        }
    }

    @Test("many concurrent first uses of one tenant open its pool exactly once")
    func singleFlightOpen() async throws {
        let delegate = RecordingDelegate()
        try await directory.withTenancy(delegate: delegate) { tenancy async throws in
            let acme = try TenantID("acme")
            try await tenancy.createTenant(acme)
            let pools = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
                for id in 1...8 {
                    group.addTask {
                        try await tenancy.withTenant(acme) {
                            let pool = try currentPool()
                            try await pool.write { connection in
                                _ = try await connection.query("INSERT INTO notes (id, body) VALUES (?, 'x')", [.integer(id)])
                            }
                            return ObjectIdentifier(pool)
                        }
                    }
                }
                return try await group.reduce(into: Set()) { $0.insert($1) }
            }
            #expect(pools.count == 1)
            #expect(tenancy.pools.openCount == 1)
            #expect(delegate.opens(of: acme) == 1)
            let count = try await tenancy.withTenant(acme) {
                try await currentPool().read { try await $0.scalar("SELECT count(*) FROM notes")?.integer }
            }
            #expect(count == 8)
        }
    }

    @Test("a pool running a query is not evicted when another tenant needs a slot; the registry overflows")
    func noEvictionUnderRunningQuery() async throws {
        let delegate = RecordingDelegate()
        let configuration = Tenancy.Configuration(pools: .init(maximumOpenPools: 1))
        try await directory.withTenancy(configuration, delegate: delegate) { tenancy async throws in
            let acme = try TenantID("acme")
            let globex = try TenantID("globex")
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)

            let outcome = try await withGuard("a write while another tenant opens") {
                let writing = Gate()
                let otherOpened = Gate()
                async let acmeWork = tenancy.withTenant(acme) {
                    try await currentPool().write { connection -> Int? in
                        _ = try await connection.query("BEGIN IMMEDIATE")
                        _ = try await connection.query("INSERT INTO notes (id, body) VALUES (1, 'first')")
                        writing.open()
                        _ = await otherOpened.wait(atMost: .seconds(50))
                        _ = try await connection.query(
                            "INSERT INTO notes (id, body) SELECT value, 'bulk' FROM (WITH RECURSIVE n(value) AS (SELECT 2 UNION ALL SELECT value + 1 FROM n WHERE value < 20000) SELECT value FROM n)"
                        )
                        _ = try await connection.query("COMMIT")
                        return try await connection.scalar("SELECT count(*) FROM notes")?.integer.map { Int($0) }
                    }
                }
                await writing.wait()
                try await tenancy.withTenant(globex) {
                    try await currentPool().write { _ = try await $0.query("INSERT INTO notes (id, body) VALUES (1, 'globex')") }
                }
                let eventsWhileLeased = delegate.events
                otherOpened.open()
                return (try await acmeWork, eventsWhileLeased)
            }
            let (count, eventsWhileLeased) = try #require(outcome)
            #expect(count == 20000)
            #expect(eventsWhileLeased.contains(.overflowed(openCount: 2, capacity: 1)))
            #expect(!eventsWhileLeased.contains { if case .closed(acme, _) = $0 { true } else { false } })
            #expect(!delegate.events.contains { if case .closed(acme, _) = $0 { true } else { false } })
            // Once acme's lease ended, the registry shrank back to its capacity.
            #expect(tenancy.pools.openTenants == [acme])
            #expect(delegate.events.contains(.closed(globex, .evicted)))
        }
    }

    @Test("shutdown closes every pool and later scopes fail with shutdown")
    func shutdownClosesPools() async throws {
        let delegate = RecordingDelegate()
        let acme = try TenantID("acme")
        try await directory.withTenancy(delegate: delegate) { tenancy async throws in
            try await tenancy.createTenant(acme)
            try await tenancy.withTenant(acme) {}
            #expect(tenancy.pools.openCount == 1)
            await tenancy.shutdown()
            #expect(tenancy.pools.openCount == 0)
            #expect(delegate.events.contains(.closed(acme, .shutdown)))
            let error = await #expect(throws: TenantedError.self) { try await tenancy.withTenant(acme) {} }
            #expect(error?.code == .shutdown)
        }
        // Nothing is left open: the WAL was folded back when the last connection closed.
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3-wal"))
    }
}
