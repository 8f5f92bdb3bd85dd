import FluentKit
import Foundation
import PostgresNIO
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// Two tenancies on one catalog stand for two processes (each has its own store, clients and
/// listener): what one does to a tenant, the other sees before its next use of the tenant.
/// The same scenarios run with real processes of the demo in `TenantedVaporTests`.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct CrossProcessCoherenceTests {
    @Test(arguments: TestLayout.allCases)
    func aTenantDestroyedElsewhereIsNotFoundOnTheNextUse(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            #expect(try await server.values(of: .acme) == [1], "the server's pool is warm")

            try await command.tenancy.destroyTenant(.acme)

            await expectTenantedError(.tenantNotFound) { _ = try await server.values(of: .acme) }
            await expectTenantedError(.tenantNotFound) { try await server.insert(2, into: .acme) }
        }
    }

    @Test(arguments: TestLayout.allCases)
    func aTenantRecreatedElsewhereServesTheNewDatabase(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            #expect(try await server.values(of: .acme) == [1])

            try await command.tenancy.destroyTenant(.acme)
            try await command.tenancy.createTenant(.acme)

            #expect(try await server.values(of: .acme) == [], "the old customer's data is never served")
            try await server.insert(2, into: .acme)
            #expect(try await command.values(of: .acme) == [2], "the acknowledged write is in the new database")
        }
    }

    @Test(arguments: TestLayout.allCases)
    func writesDuringAnotherProcessesDestroyAreAcknowledgedOrRefusedNeverLeakIntoTheNextTenant(layout: TestLayout) async throws {
        let trace = Locked([String: String]())
        try await withTwoProcesses(layout, trace: trace) { server, command in
            try await server.tenancy.createTenant(.acme)
            let stop = Locked(false)
            let acknowledged = Locked([Int]())
            let failures = Locked([String]())
            let writers = (0..<4).map { writer in
                Task {
                    var value = writer * 100_000
                    while !stop.value {
                        value += 1
                        trace.withLock { $0["writer \(writer)"] = "inserting \(value)" }
                        do {
                            try await server.insert(value, into: .acme)
                            trace.withLock { $0["writer \(writer)"] = "inserted \(value)" }
                            acknowledged.append(value)
                        } catch let error as TenantedError {
                            failures.append("\(error.code)")
                            try? await Task.sleep(for: .milliseconds(2))
                        } catch {
                            failures.append(String(reflecting: error))
                            try? await Task.sleep(for: .milliseconds(2))
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            trace.withLock { $0["main"] = "destroying" }
            try await command.tenancy.destroyTenant(.acme)
            trace.withLock { $0["main"] = "re-creating" }
            let acknowledgedBeforeDestroyReturned = acknowledged.value.count
            try await command.tenancy.createTenant(.acme)
            try await Task.sleep(for: .milliseconds(200))
            stop.withLock { $0 = true }
            trace.withLock { $0["main"] = "waiting for the writers" }
            for writer in writers { await writer.value }
            trace.withLock { $0["main"] = "checking" }

            #expect(acknowledgedBeforeDestroyReturned > 0, "the writers ran before the destroy")
            let inNewTenant = try await command.values(of: .acme)
            let acknowledgedAfter = Set(acknowledged.value.dropFirst(acknowledgedBeforeDestroyReturned))
            #expect(Set(inNewTenant).isSubset(of: acknowledgedAfter), "a write acknowledged before the re-create can never be in the new tenant")
            for failure in failures.value {
                #expect(failure == "tenantNotFound", "a refused write says the tenant is gone: \(failure)")
            }
        }
    }

    /// With the database layout, the "error" is postgres-nio's failed attempt to reconnect to the
    /// dropped database (the destroy ended the pool's sessions), which it reports to no request:
    /// before the pool heard of those attempts, the query waited for postgres-nio's circuit breaker
    /// (60 s), then failed with a driver error.
    @Test(arguments: TestLayout.allCases, [0, 1])
    func aMissedAnnouncementIsCaughtByTheNextErrorThroughTheCatalog(layout: TestLayout, minimumConnectionsPerPool: Int) async throws {
        try await withTwoProcesses(layout, minimumConnectionsPerPool: minimumConnectionsPerPool) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            // The server stops listening: it will not hear of the destroy.
            await server.store.watcher.stop()
            try await command.tenancy.destroyTenant(.acme)
            // Its pool still looks current; the query fails on the dropped schema (or its connection
            // fails on the dropped database), and the pool asks the catalog, which says the tenant
            // is gone.
            let clock = ContinuousClock()
            let started = clock.now
            await expectTenantedError(.tenantNotFound) { _ = try await server.values(of: .acme) }
            await expectTenantedError(.tenantNotFound) { _ = try await server.values(of: .acme) }
            let took = clock.now - started
            #expect(took < .seconds(15), "the destroyed tenant answered tenantNotFound within seconds, not after postgres-nio's 60 s circuit breaker (took \(took))")
        }
    }

    @Test(
        "with a kept connection, writes racing another process's destroy each answer within seconds, acknowledged or tenantNotFound, and later uses answer tenantNotFound at once",
        arguments: TestLayout.allCases
    )
    func writesRacingADestroyWithAKeptConnectionEachAnswerPromptly(layout: TestLayout) async throws {
        try await withTwoProcesses(layout, minimumConnectionsPerPool: 1) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(0, into: .acme)
            let stop = Locked(false)
            let slowest = Locked(Duration.zero)
            let outcomes = Locked([String: Int]())
            let writers = (0..<8).map { writer in
                Task {
                    let clock = ContinuousClock()
                    var value = writer * 100_000
                    while !stop.value {
                        value += 1
                        let started = clock.now
                        var outcome = "acknowledged"
                        do {
                            try await server.insert(value, into: .acme)
                        } catch let error as TenantedError {
                            outcome = "\(error.code)"
                        } catch {
                            outcome = String(reflecting: error)
                        }
                        let took = clock.now - started
                        slowest.withLock { $0 = max($0, took) }
                        outcomes.withLock { $0[outcome, default: 0] += 1 }
                        if outcome != "acknowledged" { try? await Task.sleep(for: .milliseconds(2)) }
                    }
                }
            }
            let clock = ContinuousClock()
            let warming = clock.now
            while outcomes.value["acknowledged", default: 0] < 20, clock.now - warming < .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
            try await command.tenancy.destroyTenant(.acme)
            try await Task.sleep(for: .milliseconds(500))
            stop.withLock { $0 = true }
            for writer in writers { await writer.value }

            let seen = outcomes.value
            print("cross-process (\(layout), 1 kept connection): writes racing a destroy answered \(seen), the slowest in \(slowest.value)")
            #expect(Set(seen.keys).isSubset(of: ["acknowledged", "tenantNotFound"]), "every write was acknowledged or refused as not found: \(seen)")
            #expect(seen["acknowledged", default: 0] > 0 && seen["tenantNotFound", default: 0] > 0, "writes ran before and after the destroy: \(seen)")
            #expect(slowest.value < .seconds(15), "no write waited on the dropped tenant's pool (the slowest took \(slowest.value))")
            let started = clock.now
            await expectTenantedError(.tenantNotFound) { try await server.insert(-1, into: .acme) }
            #expect(clock.now - started < .seconds(15), "a later write answered tenantNotFound at once, not after a pool's wait (took \(clock.now - started))")
        }
    }

    /// postgres-nio 1.33 writes a query without a write promise, so a query sent on a connection the
    /// server had just closed was never answered: before the pool checked the connection on its event
    /// loop, writes hung for ever here (minimum 0 and 1), as plain postgres-nio does.
    @Test("an administrator ending the pool's sessions while raw writes run: every write answers within seconds, and the pool serves again", arguments: [0, 1])
    func sessionsEndedWhileWritesRunAnswerPromptlyAndThePoolRecovers(minimumConnectionsPerPool: Int) async throws {
        try await withTwoProcesses(.database, minimumConnectionsPerPool: minimumConnectionsPerPool) { server, _ in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(0, into: .acme)
            let database = try await server.tenancy.withTenant(.acme) { try #require(Tenant.lease?.pool as? PostgresTenantPool).database }
            let stop = Locked(false)
            let slowest = Locked(Duration.zero)
            let outcomes = Locked([String: Int]())
            let done = Locked(0)
            for writer in 0..<4 {
                Task {
                    defer { done.withLock { $0 += 1 } }
                    let clock = ContinuousClock()
                    var value = writer * 100_000
                    while !stop.value {
                        value += 1
                        let started = clock.now
                        let acknowledged = (try? await server.insert(value, into: .acme)) != nil
                        let took = clock.now - started
                        slowest.withLock { $0 = max($0, took) }
                        outcomes.withLock { $0[acknowledged ? "acknowledged" : "failed", default: 0] += 1 }
                        if !acknowledged { try? await Task.sleep(for: .milliseconds(2)) }
                    }
                }
            }
            var ended = 0
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(200))
                ended += try await PostgresTestStores.withConnection(to: try PostgresTestServer.primary()) { connection in
                    var count = 0
                    let rows = try await connection.query(
                        "SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database) AND pid <> pg_backend_pid()) AS ended",
                        logger: .silent
                    )
                    for try await value in rows.decode(Int.self) { count = value }
                    return count
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            stop.withLock { $0 = true }
            let clock = ContinuousClock()
            let stopping = clock.now
            // A hung write would hold the writer for ever: wait a bounded time, then fail saying so.
            while done.value < 4, clock.now - stopping < .seconds(30) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let allFinished = done.value == 4
            print("sessions ended \(ended) times while writes ran (minimum \(minimumConnectionsPerPool)): \(outcomes.value), the slowest in \(slowest.value)")
            #expect(ended > 0, "the pool's sessions were ended")
            try #require(allFinished, "every write answered (a write hung after its session was ended)")
            #expect(slowest.value < .seconds(15), "no write waited unboundedly (the slowest took \(slowest.value))")
            // The tenant is still there: the pool reconnects and serves.
            try await server.insert(1, into: .acme)
            #expect(try await server.values(of: .acme).contains(1), "the pool serves again after its sessions ended")
        }
    }

    @Test(arguments: TestLayout.allCases)
    func anotherProcessLearnsOfAChangeWithinMilliseconds(layout: TestLayout) async throws {
        try await withTwoProcesses(layout) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            let (pool, learned) = try await Self.timeToLearnOfAChange(server: server, command: command)
            #expect(!pool.isCurrent, "the server learned of the change")
            print("cross-process: a \(layout) process learned of another's change \(learned) after the announcement was sent (tests run in parallel)")
            // The next scope opens a fresh pool at the new generation and serves the data.
            #expect(try await server.values(of: .acme) == [1])
        }
    }

    @Test("an open skips its second catalog read only while the listener listened and heard nothing")
    func theListenersMarkCountsEveryAnnouncement() async throws {
        try await withTwoProcesses(.database) { server, command in
            try await server.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            let watcher = server.store.watcher
            // Listening counts once the probe notification came back.
            let clock = ContinuousClock()
            let started = clock.now
            while watcher.mark() == nil, clock.now - started < .seconds(30) { try await Task.sleep(for: .milliseconds(5)) }
            let mark = try #require(watcher.mark(), "the listener listens")
            #expect(watcher.nothingArrived(since: mark), "nothing arrived yet")
            let (pool, _) = try await Self.timeToLearnOfAChange(server: server, command: command)
            #expect(!pool.isCurrent)
            #expect(!watcher.nothingArrived(since: mark), "the announcement was counted: an open spanning it reads the catalog again")
            let later = try #require(watcher.mark())
            #expect(watcher.nothingArrived(since: later))
            await watcher.stop()
            #expect(watcher.mark() == nil, "a stopped listener hears nothing")
            #expect(!watcher.nothingArrived(since: later), "an open spanning a stop reads the catalog again")
        }
    }

    @Test("a listener stopped and started again listens again: the change is learned without an error")
    func aRestartedListenerListensAgain() async throws {
        try await withTwoProcesses(.schema) { server, command in
            try await server.tenancy.createTenant(.acme)
            await server.store.watcher.stop()
            await server.store.watcher.start(server.store)
            try await server.insert(1, into: .acme)
            let (pool, learned) = try await Self.timeToLearnOfAChange(server: server, command: command)
            #expect(!pool.isCurrent, "the restarted listener heard the announcement (waited \(learned))")
        }
    }

    @Test(
        "behind a transaction pooler, where LISTEN does not hold, a process reads the catalog instead and learns of a change without any error",
        .enabled(if: PostgresTestServer.hasPgBouncers, PostgresTestServer.pgbouncerUnsetReason)
    )
    func behindATransactionPoolerChangesArePolled() async throws {
        let direct = try PostgresTestStores(layout: TestLayout.sharedSchema.layout)
        let pooled = try PostgresTestStores(layout: TestLayout.sharedSchema.layout, servers: [PoolingMode.transaction.server()], prefix: direct.prefix)
        let server = try ItemsTenancy(stores: pooled)
        let command = try ItemsTenancy(stores: direct)
        try await withTeardown {
            try await command.tenancy.createTenant(.acme)
            try await server.insert(1, into: .acme)
            let (pool, learned) = try await Self.timeToLearnOfAChange(server: server, command: command)
            // No query ran on the pool meanwhile, so no error told it: the polling did.
            #expect(!pool.isCurrent, "the pooled process learned of the change without any error")
            print("cross-process: behind PgBouncer's transaction pooling, a process learned of a change \(learned) after it")
            try await command.tenancy.destroyTenant(.acme)
            await expectTenantedError(.tenantNotFound) { _ = try await server.values(of: .acme) }
        } teardown: {
            await server.shutdown()
            await command.shutdown()
            await direct.cleanUp()
        }
    }

    // MARK: Fixture

    /// Leases acme's pool in `server`, has `command` give acme a new generation and announce it (a
    /// move's announcement, without the copy), and waits up to 30 s (a loaded machine) for `server`'s pool to go stale.
    /// Returns the pool and how long after the announcement it went stale.
    static func timeToLearnOfAChange(server: ItemsTenancy, command: ItemsTenancy) async throws -> (PostgresTenantPool, Duration) {
        let pool = try await server.tenancy.withTenant(.acme) { try #require(Tenant.lease?.pool as? PostgresTenantPool) }
        #expect(pool.isCurrent)
        let clock = ContinuousClock()
        let started = try await command.tenancy.typedStore.withTenantLock(.acme, waiting: true, operation: "test") { catalog in
            try await catalog.setReady(.acme, server: "primary", newGeneration: true)
            try await catalog.announce(.acme)
            return clock.now
        }
        while pool.isCurrent, clock.now - started < .seconds(30) {
            try await Task.sleep(for: .milliseconds(1))
        }
        return (pool, clock.now - started)
    }

    /// Runs `body` with two tenancies on one catalog, then shuts both down; the whole scenario,
    /// shutdown included, under a guard of four minutes (a full run once stalled in one of these
    /// scenarios): past it the test fails saying where both registries stood, and `trace` (what the
    /// scenario's tasks said they were doing last). `minimumConnectionsPerPool` `nil` keeps the
    /// stores' default.
    private func withTwoProcesses(
        _ layout: TestLayout,
        minimumConnectionsPerPool: Int? = nil,
        trace: Locked<[String: String]> = Locked([:]),
        _ body: @escaping @Sendable (ItemsTenancy, ItemsTenancy) async throws -> Void
    ) async throws {
        let stores = try PostgresTestStores(layout: layout.layout)
        let server = try ItemsTenancy(stores: stores, minimumConnectionsPerPool: minimumConnectionsPerPool)
        let command = try ItemsTenancy(stores: stores, minimumConnectionsPerPool: minimumConnectionsPerPool)
        let finished: Void? = try await withGuard("the \(layout) scenario", limit: .seconds(240)) {
            try await withTeardown { try await body(server, command) } teardown: {
                trace.withLock { $0["teardown"] = "shutting down" }
                await server.shutdown()
                await command.shutdown()
                await stores.cleanUp()
                trace.withLock { $0["teardown"] = "done" }
            }
        }
        if finished == nil {
            var activity: [String] = []
            for server in stores.servers { activity.append("\(server.name):\n\(await PostgresTestStores.activity(on: server))") }
            Issue.record("""
                stalled: trace \(trace.value.sorted { $0.key < $1.key }); \
                server registry \(server.tenancy.pools.snapshot), acme \(server.tenancy.pools.poolState(of: .acme)); \
                command registry \(command.tenancy.pools.snapshot), acme \(command.tenancy.pools.poolState(of: .acme)); \
                busy backends on the servers:
                \(activity.joined(separator: "\n"))
                """)
        }
    }
}

extension TenantID {
    static let acme = try! TenantID("acme")
}
