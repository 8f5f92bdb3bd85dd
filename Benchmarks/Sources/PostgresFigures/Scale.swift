import BenchmarkSupport
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization
import Tenanted
import TenantedPostgres

/// `postgres-figures --scale`: churn over 1,000 tenant databases with 50 pools open, under the
/// connection budget (`scripts/bench --scale`).
///
/// Tenanted: a database-per-tenant store whose pools have one connection each, a registry capped at
/// 50 pools, and a budget of exactly the fixed clients plus 50, so the budget binds: an open that
/// finds the previous eviction's connection not yet closed waits for it. Baseline: postgres-nio
/// connections to the *same* databases, one per tenant, kept in a least-recently-used list of 50
/// whose evicted connection closes in a task of its own (as the registry closes an evicted pool).
/// One call at a time, a primary-key select per call; uniform and Zipf access. The disk the
/// databases take is printed (`pg_database_size`, summed).
enum Scale {
    struct Plan {
        var tenants: Int
        var openPools: Int
        var calls: Int
        var warmup: Int
        var rounds: Int
    }

    static func run(url: String, options: Options) async throws -> [Figure] {
        var logger = Logger(label: "postgres-figures.scale")
        logger.logLevel = .warning
        let plan = options.quick
            ? Plan(tenants: 100, openPools: 10, calls: 400, warmup: 20, rounds: 2)
            : Plan(tenants: 1_000, openPools: 50, calls: 3_000, warmup: 100, rounds: 4)
        let server = try PostgresServer(name: "bench", url: url)
        let prefix = "scale\(UInt32.random(in: 0...UInt32.max))_"
        let shared = 4
        let configuration = PostgresStore.Configuration(
            servers: [server], layout: .databasePerTenant(), prefix: prefix,
            maximumConnectionsPerTenant: 1, maximumMaintenanceConnections: shared,
            // Catalog, lock and maintenance clients, plus one connection per open pool.
            maximumConnectionsPerServer: 3 * shared + plan.openPools,
            logger: logger
        )
        let store = try PostgresStore(configuration: configuration)
        let migrator = try PostgresMigrator([SQLMigration(name: "items", statements: [
            "CREATE TABLE items (id bigint PRIMARY KEY, title text NOT NULL)",
            "INSERT INTO items (id, title) SELECT g, 'item ' || g FROM generate_series(1, 100) g",
        ])])
        let tenancy = try Tenancy(
            store: store, configuration: .init(pools: .init(maximumOpenPools: plan.openPools)),
            migrator: migrator, logger: logger
        )
        let tenants = try (0..<plan.tenants).map { try TenantID(String(format: "t%04d", $0)) }
        var figures: [Figure] = []
        let outcome: Result<Void, any Error>
        let lru = RawConnectionLRU(capacity: plan.openPools, server: server, prefix: prefix, logger: logger)
        do {
            let clock = ContinuousClock()
            let started = clock.now
            try await createAll(tenants, in: tenancy)
            let creation = clock.now - started
            let bytes = try await diskUse(of: prefix, on: server, logger: logger)
            progress("· postgres scale: \(plan.tenants) tenant databases created in \(creation), \(bytes / 1_000_000) MB on disk\n")
            figures.append(Figure(name: "postgres_scale_create_\(plan.tenants)_seconds", value: Double(creation.components.seconds) + Double(creation.components.attoseconds) / 1e18, unit: "s", baseline: nil))
            figures.append(Figure(name: "postgres_scale_disk_\(plan.tenants)", value: Double(bytes) / 1_000_000, unit: "MB", baseline: nil))
            let opens = Mutex(0)
            for pattern in [ScaleAccess.uniform, .zipf] {
                let sequence = pattern.tenants(count: plan.tenants, calls: plan.calls + plan.rounds * plan.warmup)
                let comparison = try await compare(
                    "postgres_scale_churn_\(pattern.rawValue)", rounds: plan.rounds, iterations: plan.calls, warmup: plan.warmup,
                    tenanted: { call in
                        try await tenancy.withTenant(tenants[sequence[call]]) {
                            try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                                let rows = try await connection.query("SELECT id, title FROM items WHERE id = \(call % 100 + 1)", logger: logger)
                                for try await _ in rows {}
                            }
                        }
                    },
                    baseline: { call in
                        let connection = try await lru.connection(tenants[sequence[call]].rawValue) { opens.withLock { $0 += 1 } }
                        let rows = try await connection.query("SELECT id, title FROM items WHERE id = \(call % 100 + 1)", logger: logger)
                        for try await _ in rows {}
                    }
                )
                figures += Figure.times(of: comparison)
                figures.append(Figure(
                    name: "postgres_scale_churn_\(pattern.rawValue)_ops", value: 1e6 / comparison.tenanted.meanMicros, unit: "ops/s",
                    baseline: 1e6 / comparison.baseline.meanMicros, higherIsBetter: true))
            }
            let snapshot = tenancy.pools.snapshot
            progress("  registry: \(snapshot.opensSinceStart) pool opens, \(snapshot.evictionsSinceStart) evictions; baseline: \(opens.withLock { $0 }) connects\n")
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await lru.close()
        progress("· postgres scale: dropping the tenant databases\n")
        await destroyAll(tenants, in: tenancy)
        await tenancy.shutdown()
        try outcome.get()
        return figures
    }

    /// Creates `tenants`, four at a time.
    static func createAll(_ tenants: [TenantID], in tenancy: Tenancy) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, tenant) in tenants.enumerated() {
                if index >= 4 { try await group.next() }
                group.addTask { try await tenancy.createTenant(tenant, ifNotExists: true) }
                if index % 100 == 99 { progress("  \(index + 1) created\n") }
            }
            try await group.waitForAll()
        }
    }

    /// Destroys `tenants`, four at a time, ignoring failures (a best-effort clean-up).
    static func destroyAll(_ tenants: [TenantID], in tenancy: Tenancy) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, tenant) in tenants.enumerated() {
                if index >= 4 { await group.next() }
                group.addTask { try? await tenancy.destroyTenant(tenant) }
            }
        }
    }

    /// Bytes of every database whose name starts with `prefix`.
    static func diskUse(of prefix: String, on server: PostgresServer, logger: Logger) async throws -> Int64 {
        let connection = try await RawConnectionLRU.connect(to: server.database, on: server, logger: logger)
        defer { Task { try? await connection.close() } }
        var total: Int64 = 0
        let rows = try await connection.query("SELECT coalesce(sum(pg_database_size(datname)), 0)::bigint FROM pg_database WHERE starts_with(datname, \(prefix))", logger: logger)
        for try await bytes in rows.decode(Int64.self) { total = bytes }
        return total
    }
}

/// Which of `count` tenants each call of the scale churn uses: uniform, or Zipf with exponent 1
/// (tenant k used in proportion to 1 / (k + 1)); the same sequence on every run.
enum ScaleAccess: String {
    case uniform, zipf

    func tenants(count: Int, calls: Int) -> [Int] {
        var generator = SystemRandomNumberGeneratorSeeded(seed: 11)
        switch self {
        case .uniform:
            return (0..<calls).map { _ in Int.random(in: 0..<count, using: &generator) }
        case .zipf:
            var cumulative: [Double] = []
            var total = 0.0
            for rank in 1...count {
                total += 1 / Double(rank)
                cumulative.append(total)
            }
            return (0..<calls).map { _ in
                let target = Double.random(in: 0..<total, using: &generator)
                return cumulative.firstIndex { $0 > target } ?? count - 1
            }
        }
    }
}

/// A seeded SplitMix64, so both sides and every run see the same tenants.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The scale baseline: one postgres-nio connection per tenant database, at most `capacity` open,
/// the least recently used closed in a task of its own when another is needed.
final class RawConnectionLRU: @unchecked Sendable {
    // @unchecked: used by one benchmark task at a time (calls are sequential); `closing` is only
    // touched from that task too.
    private var connections: [String: PostgresConnection] = [:]
    private var order: [String] = []
    private var closing: [Task<Void, Never>] = []
    private var nextID = 1
    let capacity: Int
    let server: PostgresServer
    let prefix: String
    let logger: Logger

    init(capacity: Int, server: PostgresServer, prefix: String, logger: Logger) {
        self.capacity = capacity
        self.server = server
        self.prefix = prefix
        self.logger = logger
    }

    func connection(_ tenant: String, connected: () -> Void) async throws -> PostgresConnection {
        if let connection = connections[tenant] {
            if let index = order.firstIndex(of: tenant) { order.remove(at: index) }
            order.append(tenant)
            return connection
        }
        if connections.count >= capacity, let victim = order.first {
            order.removeFirst()
            if let old = connections.removeValue(forKey: victim) {
                closing.append(Task { try? await old.close() })
            }
        }
        let connection = try await Self.connect(to: prefix + tenant, on: server, logger: logger, id: nextID)
        nextID += 1
        connected()
        connections[tenant] = connection
        order.append(tenant)
        return connection
    }

    func close() async {
        for connection in connections.values { try? await connection.close() }
        connections = [:]
        for task in closing { await task.value }
        closing = []
    }

    static func connect(to database: String, on server: PostgresServer, logger: Logger, id: Int = 0) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: database, tls: .disable
        )
        return try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger)
    }
}
