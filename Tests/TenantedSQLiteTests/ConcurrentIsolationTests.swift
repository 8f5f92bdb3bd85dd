import Foundation
import NIOPosix
import SQLiteNIO
import Synchronization
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Issue 7, test 1: many tenants, few open pools, many tasks, random work. Every row carries its
/// tenant's name (a marker) and an id that encodes the tenant's index, so a read that returns
/// another tenant's row is caught at once; every acknowledged write is logged, and at the end each
/// tenant's rows must equal its log exactly (nothing lost, nothing rolled back or foreign present).
///
/// `TENANTED_SOAK=1` runs ten times the operations.
@Suite("Isolation under load")
struct ConcurrentIsolationTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    static let tenantCount = 500
    static let taskCount = 64
    static let operations = Soak.choose(200_000, soak: 2_000_000)
    /// A bound on the run, so a slow machine fails the op-count assertion instead of hanging CI.
    static let timeLimit: Duration = Soak.choose(.seconds(240), soak: .seconds(3600))
    /// Ids are `tenant index × idStride + sequence`, so an id names the tenant it was written for.
    static let idStride = 1_000_000_000

    static let schema = SQLiteMigrator(valid: [
        .init(name: "001_rows", statements: [
            "CREATE TABLE marker (tenant TEXT NOT NULL)",
            "CREATE TABLE rows (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, version INTEGER NOT NULL)",
        ])
    ])

    @Test("500 tenants, 8 open pools, 64 tasks: no read ever sees another tenant, no acknowledged write is lost")
    func isolationUnderConstantEviction() async throws {
        let delegate = CountingDelegate()
        var configuration = Tenancy.Configuration()
        configuration.pools.maximumOpenPools = 8
        // Closing a pool checkpoints its WAL, which waits for the disk: with constant eviction, a
        // thread pool of its own keeps those waits from queueing behind the queries (two threads by default).
        let threads = NIOThreadPool(numberOfThreads: 8)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let store = try directory.store { $0.threadPool = threads }
        let tenancy = try Tenancy(store: store, configuration: configuration, migrator: Self.schema, seed: { tenant, pool in
            try await pool.write { _ = try await $0.query("INSERT INTO marker (tenant) VALUES (?)", [.text(tenant.rawValue)]) }
        }, delegate: delegate, logger: .silent)
        do {
            try await run(tenancy, delegate: delegate)
        } catch {
            await tenancy.shutdown()
            throw error
        }
        await tenancy.shutdown()
    }

    func run(_ tenancy: Tenancy, delegate: CountingDelegate) async throws {
        let tenants = try (0..<Self.tenantCount).map { try TenantID("t\($0)") }
        try await forEachConcurrently(tenants, width: 8) { tenant in try await tenancy.createTenant(tenant) }

        let ledger = Ledger(tenants: tenants)
        let started = ContinuousClock.now
        let deadline = started + Self.timeLimit
        let completed = try await withGuard("the isolation run", limit: Self.timeLimit + .seconds(120)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<Self.taskCount {
                    group.addTask {
                        while ledger.operations.load(ordering: .relaxed) < Self.operations, ContinuousClock.now < deadline {
                            let index = Int.random(in: 0..<tenants.count)
                            // A burst of operations per scope: each still verifies what it reads, and
                            // with 64 scopes over 500 tenants and 8 pools, almost every scope opens a
                            // pool and evicts another.
                            try await tenancy.withTenant(tenants[index]) {
                                let pool = try tenancy.currentPool(as: SQLitePool.self)
                                for _ in 0..<Int.random(in: 1...40) {
                                    try await Self.randomOperation(on: pool, tenant: tenants[index], index: index, ledger: ledger)
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return ledger.operations.load(ordering: .relaxed)
        }
        let elapsed = ContinuousClock.now - started
        let count = try #require(completed)

        // The final state of every tenant equals its log of acknowledged writes.
        var lost = 0
        var foreign = 0
        for (index, tenant) in tenants.enumerated() {
            let rows = try await tenancy.withTenant(tenant) {
                try await tenancy.currentPool(as: SQLitePool.self).read { connection in
                    try await connection.query("SELECT id, tenant, version FROM rows")
                }
            }
            var found: [Int: Int] = [:]
            for row in rows {
                let id = row.column("id")?.integer ?? -1
                if row.column("tenant")?.string != tenant.rawValue || id / Self.idStride != index { foreign += 1 }
                found[id] = row.column("version")?.integer
            }
            let expected = ledger.tenants[index].value.live
            lost += expected.filter { found[$0.key] != $0.value }.count
            foreign += found.keys.filter { expected[$0] == nil }.count
        }
        let leaks = ledger.leaks.load(ordering: .relaxed)
        print(
            "isolation: \(count) operations in \(elapsed), \(leaks) leaks, \(lost) lost writes, "
                + "\(ledger.acknowledged.load(ordering: .relaxed)) acknowledged writes, "
                + "\(delegate.opened.load(ordering: .relaxed)) pool opens, \(delegate.evicted.load(ordering: .relaxed)) evictions"
        )
        #expect(count >= Self.operations, "only \(count) operations within \(Self.timeLimit)")
        #expect(leaks == 0, "reads saw another tenant's data: \(ledger.examples.value)")
        #expect(foreign == 0, "rows that no acknowledged write put in that tenant")
        #expect(lost == 0, "acknowledged writes missing or stale at the end")
        #expect(ledger.acknowledged.load(ordering: .relaxed) > Self.operations / 4)
        // The point of the setup: pools were evicted all along, not opened once and kept.
        #expect(delegate.evicted.load(ordering: .relaxed) > Self.tenantCount)
    }

    enum Operation: CaseIterable {
        case read, insert, update, delete, commit, rollback
    }

    /// Reads are half the work (they go to reader connections); the rest writes.
    static func randomOperation(on pool: SQLitePool, tenant: TenantID, index: Int, ledger: Ledger) async throws {
        let roll = Int.random(in: 0..<20)
        let operation: Operation = switch roll {
        case 0..<10: .read
        case 10..<13: .insert
        case 13..<15: .update
        case 15..<17: .delete
        case 17..<19: .commit
        default: .rollback
        }
        let log = ledger.tenants[index]
        if Tenant.current != tenant { ledger.leak("Tenant.current is \(Tenant.current?.rawValue ?? "nil") inside \(tenant)'s scope") }
        switch operation {
        case .read:
            try await pool.read { connection in
                let marker = try await connection.query("SELECT tenant FROM marker").map { $0.column("tenant")?.string }
                if marker != [tenant.rawValue] { ledger.leak("\(tenant) read marker \(marker)") }
                for row in try await connection.query("SELECT id, tenant FROM rows") {
                    let id = row.column("id")?.integer ?? -1
                    let owner = row.column("tenant")?.string
                    if owner != tenant.rawValue || id / idStride != index { ledger.leak("\(tenant) read row \(id) of \(owner ?? "nil")") }
                }
            }
        case .insert:
            let id = log.withLock { $0.issue(index) }
            try await pool.write { connection in
                _ = try await connection.query("INSERT INTO rows (id, tenant, version) VALUES (?, ?, 0)", [.integer(id), .text(tenant.rawValue)])
            }
            log.withLock { $0.live[id] = 0 }
            ledger.acknowledge(1)
        case .update, .delete:
            // Claim a row so no concurrent task of this tenant touches it meanwhile.
            guard let (id, version) = log.withLock({ $0.claim() }) else { break }
            let sql = operation == .update
                ? "UPDATE rows SET version = version + 1 WHERE id = ? RETURNING tenant, version"
                : "DELETE FROM rows WHERE id = ? RETURNING tenant, version"
            let rows = try await pool.write { try await $0.query(sql, [.integer(id)]) }
            let seen = rows.map { "\($0.column("tenant")?.string ?? "nil")@\($0.column("version")?.integer ?? -1)" }
            let expected = "\(tenant.rawValue)@\(operation == .update ? version + 1 : version)"
            if seen != [expected] { ledger.leak("\(operation) of row \(id) in \(tenant) saw \(seen), expected \(expected)") }
            if operation == .update { log.withLock { $0.live[id] = version + 1 } }
            ledger.acknowledge(1)
        case .commit, .rollback:
            let ids = log.withLock { [$0.issue(index), $0.issue(index)] }
            let commit = operation == .commit
            try await pool.write { connection in
                _ = try await connection.query("BEGIN IMMEDIATE")
                for id in ids {
                    _ = try await connection.query("INSERT INTO rows (id, tenant, version) VALUES (?, ?, 0)", [.integer(id), .text(tenant.rawValue)])
                }
                let owners = try await connection.query("SELECT DISTINCT tenant FROM rows").map { $0.column("tenant")?.string }
                if owners != [tenant.rawValue] { ledger.leak("\(tenant)'s transaction saw owners \(owners)") }
                _ = try await connection.query(commit ? "COMMIT" : "ROLLBACK")
            }
            if commit {
                log.withLock { for id in ids { $0.live[id] = 0 } }
                ledger.acknowledge(2)
            }
        }
        ledger.operations.add(1, ordering: .relaxed)
    }
}

/// What each tenant should hold: the acknowledged rows and their versions.
struct TenantLog: Sendable {
    var next = 0
    var live: [Int: Int] = [:]

    mutating func issue(_ index: Int) -> Int {
        defer { next += 1 }
        return index * ConcurrentIsolationTests.idStride + next
    }

    /// Takes a random acknowledged row out of the log; the caller puts it back (or not, for a delete).
    mutating func claim() -> (Int, Int)? {
        guard let element = live.randomElement() else { return nil }
        live[element.key] = nil
        return element
    }
}

final class Ledger: Sendable {
    let tenants: [Locked<TenantLog>]
    let operations = Atomic<Int>(0)
    let acknowledged = Atomic<Int>(0)
    let leaks = Atomic<Int>(0)
    let examples = Locked<[String]>([])

    init(tenants: [TenantID]) {
        self.tenants = tenants.map { _ in Locked(TenantLog()) }
    }

    func acknowledge(_ writes: Int) {
        acknowledged.add(writes, ordering: .relaxed)
    }

    func leak(_ description: String) {
        leaks.add(1, ordering: .relaxed)
        examples.withLock { if $0.count < 10 { $0.append(description) } }
    }
}

/// Counts pool opens and evictions.
final class CountingDelegate: TenancyDelegate {
    let opened = Atomic<Int>(0)
    let evicted = Atomic<Int>(0)

    func poolOpened(_ tenant: TenantID) { opened.add(1, ordering: .relaxed) }
    func poolClosed(_ tenant: TenantID, reason: PoolCloseReason) {
        if reason == .evicted { evicted.add(1, ordering: .relaxed) }
    }
}
