package import FluentKit
import Logging
import NIOCore
import SQLKit
package import Tenanted
package import TenantedFluent
import TenantedTestSupport
import Testing

/// The behaviour every ``TenantStore`` must show, run against real storage: SQLite files, PostgreSQL
/// databases per tenant, PostgreSQL schemas per tenant.
///
/// A store's test suite makes one `StoreConformance` per test and calls one check:
///
/// ```swift
/// @Test func lifecycle() async throws {
///     try await StoreConformance(name: "sqlite") { try SQLiteStore(...) }.lifecycle()
/// }
/// ```
///
/// `makeStore` must return a store over the same, initially empty storage every time it is called:
/// two calls play two processes sharing the storage.
package struct StoreConformance<Store: FluentTenantStore>: Sendable {
    /// Names the store in failure messages.
    package let name: String
    package let makeStore: @Sendable () throws -> Store

    package init(name: String, makeStore: @escaping @Sendable () throws -> Store) {
        self.name = name
        self.makeStore = makeStore
    }

    // MARK: Checks

    /// Create, exists, list, create again, destroy, destroy again, recreate (empty).
    package func lifecycle() async throws {
        try await withFixture { fixture in
            let tenancy = fixture.tenancy
            #expect(try await tenancy.tenants() == [], "\(name): a new store lists no tenants")
            #expect(try await tenancy.createTenant(.alpha))
            #expect(try await tenancy.createTenant(.beta))
            #expect(try await tenancy.tenantExists(.alpha))
            #expect(try await !tenancy.tenantExists(.gamma))
            #expect(try await tenancy.tenants() == [.alpha, .beta])
            await expectTenantedError(.tenantExists) { try await tenancy.createTenant(.alpha) }
            #expect(try await tenancy.createTenant(.alpha, ifNotExists: true) == false)

            try await fixture.insert(3, into: .alpha)
            #expect(try await fixture.entries(of: .alpha).count == 3)

            try await tenancy.destroyTenant(.alpha)
            #expect(try await !tenancy.tenantExists(.alpha))
            #expect(try await tenancy.tenants() == [.beta])
            await expectTenantedError(.tenantNotFound) { try await tenancy.destroyTenant(.alpha) }
            await expectTenantedError(.tenantNotFound) { try await tenancy.withTenant(.alpha) {} }
            await expectTenantedError(.tenantNotFound) { try await tenancy.withTenant(.gamma) {} }

            // A recreated tenant starts empty: nothing of the destroyed one survives.
            #expect(try await tenancy.createTenant(.alpha))
            #expect(try await fixture.entries(of: .alpha).isEmpty)

            // Another process (a second store over the same storage) sees the same tenants.
            let other = try makeStore()
            #expect(try await other.tenants() == [.alpha, .beta])
            #expect(try await other.exists(.beta))
            await other.shutdown()
        }
    }

    /// Paged listing (``TenantStore/tenants(matching:)``) equals the full listing's pages, with names
    /// that sort differently bytewise and in a natural-language collation (`a-1`, `a1`, `a_b`, `ab`);
    /// counts; sizes.
    package func inventory() async throws {
        try await withFixture { fixture in
            let tenancy = fixture.tenancy
            let names = ["a", "a-1", "a1", "a_b", "ab", "b", "b-2", "b10", "b9", "c", "dd", "z"]
            for name in names { try await tenancy.createTenant(TenantID(name)) }
            try await tenancy.destroyTenant(TenantID("b9"))
            let all = try await tenancy.tenants()
            #expect(all.map(\.rawValue) == names.filter { $0 != "b9" }, "\(name): the full listing")
            var queries = [try TenantListQuery(limit: 1000)]
            for limit in [1, 2, 3, 5] {
                queries.append(try TenantListQuery(limit: limit))
                for pivot in ["a", "a-1", "a1", "b", "b9", "c", "zz"] {
                    queries.append(try TenantListQuery(after: TenantID(pivot), limit: limit))
                    queries.append(try TenantListQuery(before: TenantID(pivot), limit: limit))
                }
                for prefix in ["a", "b", "b1", "a_", "q"] {
                    queries.append(try TenantListQuery(prefix: prefix, limit: limit))
                    queries.append(try TenantListQuery(prefix: prefix, after: TenantID("a"), limit: limit))
                    queries.append(try TenantListQuery(prefix: prefix, before: TenantID("b10"), limit: limit))
                }
            }
            for query in queries {
                #expect(try await tenancy.tenants(matching: query) == query.page(of: all), "\(name): \(query)")
            }
            #expect(try await tenancy.tenantCount() == all.count, "\(name): the count")
            if let size = try await tenancy.storageSize(of: TenantID("a")) {
                #expect(size > 0, "\(name): a tenant's size")
            }
        }
    }

    /// Migrations at create, pending detection at open, migrate-all, status, rollback, a failing tenant.
    package func migrations() async throws {
        let storeMaker = makeStore
        try await withFixture(migrations: .conformance()) { first in
            try await first.tenancy.createTenant(.alpha)
            try await first.tenancy.createTenant(.beta)
            try await first.insert(2, into: .alpha)
        }
        // The next release adds a table; its tenancy sees the tenants as pending.
        let release2 = StoreConformance(name: name, makeStore: storeMaker)
        try await release2.withFixture(migrations: .conformance([CreateLabels()])) { fixture in
            let tenancy = fixture.tenancy
            await expectTenantedError(.pendingMigrations) { try await tenancy.withTenant(.alpha) {} }
            let status = try await tenancy.migrationStatus(.alpha)
            #expect(status.applied.count == 1 && status.applied[0].hasSuffix("CreateEntries"), "\(status)")
            #expect(status.pending.count == 1 && status.pending[0].hasSuffix("CreateLabels"), "\(status)")

            let report = try await tenancy.migrateAll(maximumConcurrency: 2, progress: nil)
            #expect(report.succeeded)
            #expect(report.migrated.map(\.tenant).sorted() == [.alpha, .beta])
            let again = try await tenancy.migrateAll(maximumConcurrency: 2, progress: nil)
            #expect(again.current.count == 2, "\(name): a second migrate-all finds nothing to do")

            // Data written before the migration is intact, and the new table works.
            #expect(try await fixture.entries(of: .alpha).count == 2)
            try await tenancy.withTenant(.alpha) {
                let sql = try #require(fixture.db() as? any SQLDatabase)
                try await sql.raw("INSERT INTO labels (id, name) VALUES (\(bind: UUID()), 'x')").run()
            }

            let reverted = try await tenancy.rollback(.beta)
            #expect(reverted.count == 1)
            #expect(try await tenancy.migrationStatus(.beta).pending.count == 1)
            #expect(try await tenancy.migrate(.beta).count == 1)
        }
        // A release whose migration fails for one tenant: that tenant is left where it was.
        let release3 = StoreConformance(name: name, makeStore: storeMaker)
        try await release3.withFixture(migrations: .conformance([CreateLabels(), FailsFor(tenant: .beta)])) { fixture in
            let report = try await fixture.tenancy.migrateAll(maximumConcurrency: 2, progress: nil)
            #expect(report.failures.map(\.tenant) == [.beta])
            let failure = try #require(report.failures.first?.error)
            #expect(failure.code == .migrationFailed)
            #expect(failure.message.contains("beta"), "\(failure)")
            #expect(try await fixture.tenancy.migrationStatus(.beta).pending == ["FailsForOneTenant"])
            #expect(try await fixture.tenancy.migrationStatus(.alpha).pending == [])
        }
        // The failed batch left nothing behind: seen by the previous release (for which beta is
        // current), the half-done table is not there.
        let previous = StoreConformance(name: name, makeStore: storeMaker)
        try await previous.withFixture(migrations: .conformance([CreateLabels()])) { fixture in
            let leftover = try await fixture.tenancy.withTenant(.beta) {
                try await fixture.tableExists("half_done")
            }
            #expect(!leftover, "\(name): a failed migration batch must roll back")
            #expect(try await fixture.entries(of: .beta).isEmpty)
        }
    }

    /// Same IDs and interleaved writes in several tenants never cross.
    package func isolation() async throws {
        try await withFixture { fixture in
            let tenants: [TenantID] = [.alpha, .beta, .gamma]
            for tenant in tenants { try await fixture.tenancy.createTenant(tenant) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for tenant in tenants {
                    group.addTask {
                        for round in 0..<10 {
                            try await fixture.insert(1, into: tenant, value: round)
                            let seen = try await fixture.entries(of: tenant)
                            #expect(seen.allSatisfy { $0.owner == tenant.rawValue && $0.tenant == tenant })
                            #expect(seen.count == round + 1)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for tenant in tenants {
                let entries = try await fixture.entries(of: tenant)
                #expect(entries.count == 10)
                #expect(Set(entries.map(\.owner)) == [tenant.rawValue])
            }
            // Outside any tenant: no database, a noTenant error.
            await expectTenantedError(.noTenant) { _ = try await Entry.query(on: fixture.db()).count() }
        }
    }

    /// Many tasks over more tenants than the registry may keep open: pools are evicted and reopened
    /// under load, and not one acknowledged write is lost or lands in another tenant.
    package func evictionUnderLoad() async throws {
        let pools = TenantPools<any Sendable>.Configuration(maximumOpenPools: 2, maximumOverflow: 2, overflowTimeout: .seconds(60))
        try await withFixture(configuration: .init(pools: pools)) { fixture in
            let tenants = (0..<6).map { try! TenantID("load\($0)") }
            for tenant in tenants { try await fixture.tenancy.createTenant(tenant) }
            let acknowledged = Locked([TenantID: Int]())
            let stepsDone = Locked([Int](repeating: 0, count: 12))
            let name = name
            // A full run once stalled here with no connection open: give up after four minutes and
            // say where each task and each tenant's pool stood, instead of stalling the whole run.
            let finished: Void? = try await withGuard("\(name): 12 tasks × 8 writes over 6 tenants", limit: .seconds(240)) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<12 {
                        group.addTask {
                            for step in 0..<8 {
                                let tenant = tenants[(task * 7 + step * 5) % tenants.count]
                                try await fixture.insert(1, into: tenant, value: step)
                                acknowledged.withLock { $0[tenant, default: 0] += 1 }
                                let seen = try await fixture.entries(of: tenant)
                                #expect(seen.allSatisfy { $0.owner == tenant.rawValue }, "\(name): a row of another tenant")
                                stepsDone.withLock { $0[task] += 1 }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            guard finished != nil else {
                let pools = fixture.tenancy.pools
                let states = tenants.map { "\($0): \(pools.poolState(of: $0))" }.joined(separator: ", ")
                Issue.record("\(name): steps done per task \(stepsDone.withLock { $0 }); registry \(pools.snapshot); pools \(states)")
                return
            }
            #expect(fixture.tenancy.pools.openCount <= 4, "\(name): the registry kept \(fixture.tenancy.pools.openCount) pools")
            let expected = acknowledged.withLock { $0 }
            for tenant in tenants {
                #expect(try await fixture.entries(of: tenant).count == expected[tenant, default: 0], "\(name): writes lost in \(tenant)")
            }
        }
    }

    /// Concurrent creates of one tenant from two store instances ("processes"): exactly one wins.
    package func concurrentCreate() async throws {
        try await withFixture { fixture in
            let second = try StoreConformanceFixture(store: makeStore(), migrations: .conformance())
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for attempt in 0..<6 {
                    let tenancy: Tenancy = attempt.isMultiple(of: 2) ? fixture.tenancy : second.tenancy
                    group.addTask {
                        do {
                            _ = try await tenancy.createTenant(.race)
                            return "created"
                        } catch let error as TenantedError where error.code == .tenantExists {
                            return "exists"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            await second.shutdown()
            #expect(outcomes.filter { $0 == "created" }.count == 1, "\(name): \(outcomes)")
            #expect(outcomes.filter { $0 == "exists" }.count == 5, "\(name): \(outcomes)")
            #expect(try await fixture.tenancy.tenants() == [.race])
            try await fixture.insert(1, into: .race)
            #expect(try await fixture.entries(of: .race).count == 1)
        }
    }

    /// Names that are valid tenant names but unusual for the storage (reserved words, the longest
    /// name, look-alikes of system objects): each is either a working, isolated tenant, or refused
    /// with `badTenantName` and nothing created. Invalid names never reach the store.
    package func hostileNames() async throws {
        try await withFixture { fixture in
            let tenancy = fixture.tenancy
            var created: [TenantID] = []
            for name in Self.unusualValidNames {
                let tenant = try TenantID(name)
                do {
                    try await tenancy.createTenant(tenant)
                    created.append(tenant)
                    try await fixture.insert(1, into: tenant)
                    let entries = try await fixture.entries(of: tenant)
                    #expect(entries.count == 1 && entries[0].owner == name, "\(self.name): tenant '\(name)'")
                } catch let error as TenantedError where error.code == .badTenantName {
                    #expect(!error.message.isEmpty)
                }
            }
            #expect(try await tenancy.tenants() == created.sorted(), "\(name): only the created names are listed")
            for tenant in created { try await tenancy.destroyTenant(tenant) }
            #expect(try await tenancy.tenants() == [])
            for name in Self.invalidNames {
                #expect(throws: TenantedError.self, "\(self.name): '\(name.debugDescription)' must be refused") { try TenantID(name) }
            }
        }
    }

    static var unusualValidNames: [String] {
        [
            "a", "0", "9-9", "a_b", "a--b", "con", "nul", "aux", "lpt1", "com1", "public", "pg_catalog",
            "information_schema", "postgres", "template0", "template1", "tenanted", "main", "sqlite_master",
            "select", "drop", "user", "default", "null", "true", String(repeating: "z", count: 63),
            String(repeating: "x", count: 56), "tenant_alpha", "xn--80ak6aa92e",
        ]
    }

    static var invalidNames: [String] {
        [
            "", ".", "..", "../x", "a/b", "a\\b", "A", "a b", "a\u{0}b", "a\nb", "-a", "_a", "a.b", "ａ",
            "\u{0430}cme", "a'b", "a\"b", "a;drop", "%2e%2e", String(repeating: "a", count: 64),
        ]
    }

    // MARK: Fixture

    /// Runs `body` with a fresh tenancy over a fresh store, and shuts both down.
    func withFixture(
        migrations: TenantMigrations = .conformance(),
        configuration: Tenancy.Configuration = .init(),
        _ body: (StoreConformanceFixture<Store>) async throws -> Void
    ) async throws {
        let fixture = try StoreConformanceFixture(store: makeStore(), migrations: migrations, configuration: configuration)
        try await withTeardown { try await body(fixture) } teardown: { await fixture.shutdown() }
    }
}

/// A tenancy with Fluent migrations and a routing `Databases`, as an application sets them up.
package final class StoreConformanceFixture<Store: FluentTenantStore>: Sendable {
    package let tenancy: Tenancy
    package let store: Store
    let databases: Databases
    let eventLoop: any EventLoop

    package init(store: Store, migrations: TenantMigrations, configuration: Tenancy.Configuration = .init()) throws {
        tenancy = try Tenancy(store: store, migrations: migrations, configuration: configuration, logger: .silent)
        self.store = store
        databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        eventLoop = store.eventLoopGroup.any()
    }

    /// The routing database, as `req.db`.
    package func db() -> any Database {
        databases.database(logger: .silent, on: eventLoop)!
    }

    func insert(_ count: Int, into tenant: TenantID, value: Int = 0) async throws {
        try await tenancy.withTenant(tenant) {
            for _ in 0..<count {
                try await Entry(owner: tenant, value: value).create(on: db())
            }
        }
    }

    func entries(of tenant: TenantID) async throws -> [Entry] {
        try await tenancy.withTenant(tenant) { try await Entry.query(on: db()).all() }
    }

    func tableExists(_ table: String) async throws -> Bool {
        let sql = try #require(db() as? any SQLDatabase)
        return try await store.tableExists(table, on: sql)
    }

    package func shutdown() async {
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}

extension TenantID {
    static let alpha = try! TenantID("alpha")
    static let beta = try! TenantID("beta")
    static let gamma = try! TenantID("gamma")
    static let race = try! TenantID("race")
}
