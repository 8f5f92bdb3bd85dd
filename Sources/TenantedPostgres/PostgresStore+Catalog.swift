import Synchronization
import Logging
import PostgresNIO
import Tenanted

/// A tenant's row in the placement catalog.
struct Placement: Sendable {
    let tenant: TenantID
    let server: String
    /// Written last by a create: only ready rows are tenants.
    let ready: Bool
    /// Changes whenever the tenant gets a new database or schema (a create, a move): a pool opened at
    /// one generation never serves another.
    let generation: Int64
    /// The suspension reason ('' for none) while the tenant is suspended; `nil` when it is not.
    var suspended: String? = nil
}

/// The channel on which every process announces its changes to tenants. The payload is
/// `<store key> <tenant> <generation>`, generation 0 for a tenant that is gone or being destroyed.
enum PlacementChannel {
    static let name = "tenanted_placements"
}

/// The placement catalog, `tenanted.placements`, through one connection of the catalog server.
struct CatalogSession {
    let connection: PostgresConnection
    let key: String
    let logger: Logger

    func placement(of tenant: TenantID) async throws -> Placement? {
        let rows = try await connection.query(
            "SELECT server, ready, generation, suspended FROM tenanted.placements WHERE store = \(key) AND tenant = \(tenant.rawValue)",
            logger: logger
        )
        for try await (server, ready, generation, suspended) in rows.decode((String, Bool, Int64, String?).self) {
            return Placement(tenant: tenant, server: server, ready: ready, generation: generation, suspended: suspended)
        }
        return nil
    }

    /// The generation of each of `tenants` that is ready; tenants that are not are absent.
    func generations(of tenants: [TenantID]) async throws -> [TenantID: Int64] {
        let names = tenants.map(\.rawValue)
        let rows = try await connection.query(
            "SELECT tenant, generation FROM tenanted.placements WHERE store = \(key) AND ready AND tenant = ANY(\(names))",
            logger: logger
        )
        var generations: [TenantID: Int64] = [:]
        for try await (name, generation) in rows.decode((String, Int64).self) {
            guard let tenant = try? TenantID(name) else { continue }
            generations[tenant] = generation
        }
        return generations
    }

    /// Tells every process listening on the catalog server that `tenant` changed: the payload carries
    /// its generation when it is ready, else 0. Each statement here commits on its own, so a listener
    /// that reads the catalog on receipt sees the change.
    func announce(_ tenant: TenantID) async throws {
        let channel = PlacementChannel.name
        try await connection.query(
            """
            SELECT pg_notify(\(channel), \(key) || ' ' || \(tenant.rawValue) || ' ' || COALESCE(
                (SELECT generation FROM tenanted.placements WHERE store = \(key) AND tenant = \(tenant.rawValue) AND ready), 0)::text)
            """,
            logger: logger
        )
    }

    func readyPlacements() async throws -> [Placement] {
        let rows = try await connection.query(
            "SELECT tenant, server FROM tenanted.placements WHERE store = \(key) AND ready ORDER BY tenant",
            logger: logger
        )
        var placements: [Placement] = []
        for try await (name, server) in rows.decode((String, String).self) {
            // A name that is no longer valid (edited by hand) is not a tenant.
            guard let tenant = try? TenantID(name) else { continue }
            placements.append(Placement(tenant: tenant, server: server, ready: true, generation: 0))
        }
        return placements
    }

    /// Tenants per server, counting creates in progress too, so concurrent creates spread out.
    func tenantsPerServer() async throws -> [String: Int] {
        let rows = try await connection.query(
            "SELECT server, count(*)::int8 FROM tenanted.placements WHERE store = \(key) GROUP BY server",
            logger: logger
        )
        var counts: [String: Int] = [:]
        for try await (server, count) in rows.decode((String, Int64).self) {
            counts[server] = Int(count)
        }
        return counts
    }

    func insert(_ tenant: TenantID, server: String) async throws {
        try await connection.query(
            """
            INSERT INTO tenanted.placements (store, tenant, server, ready, generation)
            VALUES (\(key), \(tenant.rawValue), \(server), false, nextval('tenanted.placement_generations'))
            """,
            logger: logger
        )
    }

    /// Marks `tenant` ready on `server`: the last step of a create, the switch of a move. A move
    /// (`newGeneration`) also gives the tenant a new generation, so pools of the old copy go stale.
    func setReady(_ tenant: TenantID, server: String, newGeneration: Bool = false) async throws {
        if newGeneration {
            try await connection.query(
                """
                UPDATE tenanted.placements SET server = \(server), ready = true, generation = nextval('tenanted.placement_generations')
                WHERE store = \(key) AND tenant = \(tenant.rawValue)
                """,
                logger: logger
            )
        } else {
            try await connection.query(
                "UPDATE tenanted.placements SET server = \(server), ready = true WHERE store = \(key) AND tenant = \(tenant.rawValue)",
                logger: logger
            )
        }
    }

    /// Suspends (`reason` non-nil, '' for none) or resumes (`nil`) `tenant`, with a new generation so
    /// every process's open pools of it go stale.
    func setSuspended(_ tenant: TenantID, reason: String?) async throws {
        try await connection.query(
            """
            UPDATE tenanted.placements SET suspended = \(reason), generation = nextval('tenanted.placement_generations')
            WHERE store = \(key) AND tenant = \(tenant.rawValue)
            """,
            logger: logger
        )
    }

    /// The last step of a restore: `tenant` is ready on `server` with a new generation, not suspended.
    func setRestored(_ tenant: TenantID, server: String) async throws {
        try await connection.query(
            """
            INSERT INTO tenanted.placements (store, tenant, server, ready, generation)
            VALUES (\(key), \(tenant.rawValue), \(server), true, nextval('tenanted.placement_generations'))
            ON CONFLICT (store, tenant) DO UPDATE
            SET server = EXCLUDED.server, ready = true, generation = EXCLUDED.generation, suspended = NULL
            """,
            logger: logger
        )
    }

    func setNotReady(_ tenant: TenantID) async throws {
        try await connection.query(
            "UPDATE tenanted.placements SET ready = false WHERE store = \(key) AND tenant = \(tenant.rawValue)",
            logger: logger
        )
    }

    func remove(_ tenant: TenantID) async throws {
        try await connection.query(
            "DELETE FROM tenanted.placements WHERE store = \(key) AND tenant = \(tenant.rawValue)",
            logger: logger
        )
    }
}

extension PostgresStore {
    /// Runs `body` with a catalog session (no lock).
    func catalog<Result: Sendable>(_ body: (CatalogSession) async throws -> Result) async throws -> Result {
        try await ensureCatalog()
        do {
            return try await client(.catalog).withConnection { connection in
                try await body(CatalogSession(connection: connection, key: catalogKey, logger: logger))
            }
        } catch {
            throw TenantedError.postgres("reading the placement catalog", nil, error)
        }
    }

    /// Runs `body` holding `tenant`'s advisory lock on the catalog server — the lock every create,
    /// destroy and move of the tenant takes, in every process.
    ///
    /// The lock is transaction-scoped, taken and held in a transaction of its own that stays open
    /// for the whole of `body` on a connection of the locks' own pool (reused: connecting per
    /// operation cost more than the rest of a create), while `body`'s catalog statements run,
    /// and commit one by one, on the catalog pool. So it holds behind a transaction pooler (which
    /// keeps one server connection for the length of a transaction, where a session lock would stay
    /// behind on whichever backend took it), and a process that dies releases it: its connection
    /// closes, and the transaction rolls back. A waiting attempt ends its transaction before it
    /// sleeps, so waiters do not hold a pooler's server connections.
    ///
    /// - Parameter waiting: wait up to ``Configuration/lockTimeout`` for the lock; when `false` a
    ///   held lock means another create is running: ``Tenanted/TenantedError/Code/tenantExists``.
    func withTenantLock<Result: Sendable>(
        _ tenant: TenantID, waiting: Bool, operation: String, _ body: (CatalogSession) async throws -> Result
    ) async throws -> Result {
        try await ensureCatalog()
        let lockName = "tenanted:\(catalogKey):\(tenant.rawValue)"
        do {
            return try await client(.locks).withConnection { lockConnection in
                let deadline = ContinuousClock.now + configuration.lockTimeout
                do {
                    while true {
                        try await lockConnection.query("BEGIN", logger: logger)
                        let rows = try await lockConnection.query("SELECT pg_try_advisory_xact_lock(hashtextextended(\(lockName), 0))", logger: logger)
                        var locked = false
                        for try await value in rows.decode(Bool.self) { locked = value }
                        if locked {
                            // The transaction idles while `body` runs: a server-wide timeout must
                            // not end it (and the lock) half-way.
                            try await lockConnection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
                            break
                        }
                        try await lockConnection.query("ROLLBACK", logger: logger)
                        guard waiting else {
                            throw TenantedError(.tenantExists, "tenant '\(tenant)' exists or is being created", tenant: tenant)
                        }
                        guard ContinuousClock.now < deadline else {
                            throw TenantedError(
                                .storeFailure,
                                "\(operation) of tenant '\(tenant)' timed out after \(configuration.lockTimeout) waiting for another create, destroy or move of it",
                                tenant: tenant
                            )
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                } catch {
                    await Self.endLockTransaction(lockConnection, "ROLLBACK", logger: logger)
                    throw error
                }
                let result: Result
                do {
                    result = try await client(.catalog).withConnection { connection in
                        try await body(CatalogSession(connection: connection, key: catalogKey, logger: logger))
                    }
                } catch {
                    await Self.endLockTransaction(lockConnection, "ROLLBACK", logger: logger)
                    throw error
                }
                // The lock's transaction wrote nothing: if its end fails, the lock ends with the
                // connection (closed then), and what `body` did stands.
                if await !Self.endLockTransaction(lockConnection, "COMMIT", logger: logger) {
                    logger.warning("the tenant lock's connection failed before the end of the operation; other processes were not kept out for all of it", metadata: [
                        "tenant": "\(tenant)", "operation": "\(operation)",
                    ])
                }
                return result
            }
        } catch {
            throw TenantedError.postgres(operation, tenant, error)
        }
    }

    /// Ends the lock connection's transaction (if any) with `statement`. The connection goes back to a
    /// pool, so when that fails (a lost connection, a cancelled task) it is closed instead: a pooled
    /// connection never keeps a transaction, or a lock, for its next user. `false` when it failed.
    @discardableResult
    static func endLockTransaction(_ connection: PostgresConnection, _ statement: String, logger: Logger) async -> Bool {
        do {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            return true
        } catch {
            try? await connection.close()
            return false
        }
    }

    /// Creates the catalog schema and table once per store instance (idempotent across processes).
    ///
    /// A catalog already in its current shape is found with one read and no lock, so a process
    /// stalled inside the set-up (stopped in a debugger, starved of threads) never holds up another
    /// process's first use. Only a missing or older catalog takes the set-up lock, in a transaction
    /// that waits at most ``catalogLockTimeout`` for it, and that the server ends if its client
    /// stalls inside for longer than ``catalogIdleTimeout``.
    func ensureCatalog() async throws {
        if catalogReady.withLock({ $0 }) { return }
        do {
            let client = try await client(.catalog)
            if try await !Self.catalogIsInPlace(client, logger: logger) {
                try await client.withTransaction(logger: logger) { connection in
                    try await Self.lockCatalogSetUp(on: connection, logger: logger)
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS tenanted.placements (
                            store text NOT NULL,
                            tenant text NOT NULL,
                            server text NOT NULL,
                            ready boolean NOT NULL DEFAULT false,
                            placed_at timestamptz NOT NULL DEFAULT now(),
                            PRIMARY KEY (store, tenant)
                        )
                        """,
                        logger: logger
                    )
                    // Generations came after the first release: a catalog made before gets the column.
                    try await connection.query("CREATE SEQUENCE IF NOT EXISTS tenanted.placement_generations", logger: logger)
                    try await connection.query(
                        "ALTER TABLE tenanted.placements ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0",
                        logger: logger
                    )
                    // Suspensions came with tenant operations: NULL while the tenant is not suspended.
                    try await connection.query("ALTER TABLE tenanted.placements ADD COLUMN IF NOT EXISTS suspended text", logger: logger)
                }
            }
        } catch {
            throw TenantedError.postgres("creating the placement catalog on server '\(catalogServer.name)'", nil, error)
        }
        catalogReady.withLock { $0 = true }
    }

    /// How long a catalog set-up waits for another process's set-up to finish before it fails
    /// (SQLSTATE 55P03) instead of waiting on.
    static let catalogLockTimeout = "30s"
    /// How long the server lets a catalog set-up transaction sit idle (its client stalled) before it
    /// ends the session, and with it the set-up lock another process may be waiting for.
    static let catalogIdleTimeout = "60s"

    /// Begins a set-up of the `tenanted` schema's objects in the transaction on `connection`: bounds it
    /// (``catalogLockTimeout``, ``catalogIdleTimeout``, for this transaction only), takes the set-up
    /// lock and creates the schema. IF NOT EXISTS alone races between processes; the lock serialises
    /// them. One key for every object of the schema (the catalog's, the template table's): two
    /// transactions creating the schema under different locks collide (CI saw "storing the schema
    /// template … failed" on a fresh second server that another test's store used as its catalog).
    static func lockCatalogSetUp(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(catalogLockTimeout)'"), logger: logger)
        try await connection.query(
            PostgresQuery(unsafeSQL: "SET LOCAL idle_in_transaction_session_timeout = '\(catalogIdleTimeout)'"), logger: logger
        )
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('tenanted:catalog', 0))", logger: logger)
        try await connection.query("CREATE SCHEMA IF NOT EXISTS tenanted", logger: logger)
    }

    /// Whether the catalog has every object and column this version uses: one read, no lock.
    static func catalogIsInPlace(_ client: PostgresClient, logger: Logger) async throws -> Bool {
        let rows = try await client.query(
            """
            SELECT to_regclass('tenanted.placement_generations') IS NOT NULL
                AND (SELECT count(*) FROM pg_catalog.pg_attribute
                     WHERE attrelid = to_regclass('tenanted.placements') AND attname IN ('generation', 'suspended') AND NOT attisdropped) = 2
            """,
            logger: logger
        )
        for try await inPlace in rows.decode(Bool.self) { return inPlace }
        return false
    }

    /// The server the placement policy picks for a new tenant.
    func choose(for tenant: TenantID, catalog: CatalogSession) async throws -> PostgresServer {
        let counts = try await catalog.tenantsPerServer()
        let load = configuration.servers.map { (server: $0.name, tenants: counts[$0.name] ?? 0) }
        let name = configuration.placement.choose(tenant, load)
        guard let server = servers[name] else {
            throw TenantedError(.invalidConfiguration, "the placement policy chose unknown server '\(name)' for tenant '\(tenant)'", tenant: tenant)
        }
        return server
    }
}
