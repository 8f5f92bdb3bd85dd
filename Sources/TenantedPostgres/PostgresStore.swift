import Logging
import NIOPosix
import PostgresNIO
import Synchronization
public import Tenanted

/// PostgreSQL tenant storage: a database or a schema per tenant, on one server or spread over several.
///
/// ```swift
/// let store = try PostgresStore(configuration: .init(
///     servers: [try PostgresServer(name: "main", url: "postgres://app@db:5432/postgres")],
///     layout: .schemaPerTenant()
/// ))
/// let tenancy = try Tenancy(store: store, migrations: migrations)
/// ```
///
/// **Where tenants are.** A catalog table, `tenanted.placements` in the catalog server's database,
/// maps each tenant to its server. New tenants are placed by the ``PlacementPolicy``;
/// ``Tenanted/Tenancy/moveTenant(_:to:)`` moves one.
///
/// **Invisible until complete.** A tenant is listed and exists only when its catalog row is marked
/// ready *and* its database or schema carries Tenanted's ready comment, both written after the
/// migrations and seed succeeded. A create holds a per-tenant advisory lock on the catalog server
/// for its whole length (transaction-scoped, so it holds behind a transaction pooler), so
/// concurrent creates of one name — in any process — let exactly one win; a create that finds the
/// leftovers of a crashed one (whose lock died with its connection) removes them first.
///
/// **Fail closed behind a pooler.** The pool-per-tenant schema layout checks at every pool open that
/// the tenant's schema is the one in effect, and refuses the pool otherwise (a pooler dropped the
/// `search_path` startup parameter); see <doc:TenantedPostgres#Schema-per-tenant-and-PgBouncer>.
public final class PostgresStore: TenantStore, TenantPlacingStore {
    public typealias Pool = PostgresTenantPool

    /// The options in force.
    public let configuration: Configuration
    let logger: Logger
    /// What identifies this store's rows in a shared catalog: layout and prefix.
    let catalogKey: String
    let catalogServer: PostgresServer
    let servers: [String: PostgresServer]
    private let clients: Mutex<[ClientRole: Task<RunningClient, any Error>]> = Mutex([:])
    /// The connection budget of each server, by name.
    let budgets: [String: ConnectionBudget]
    /// How the registries of the ``Tenanted/Tenancy``s built on this store close idle pools.
    let reclaimers: Mutex<[TenantPoolReclaimer<PostgresTenantPool>]> = Mutex([])
    let catalogReady: Mutex<Bool> = Mutex(false)
    /// `server/key` of the schema templates this process has seen on a server (schema layout).
    let schemaTemplates: Mutex<Set<String>> = Mutex([])
    /// Learns of other processes' changes to tenants and invalidates this process's pools.
    let watcher: PlacementWatcher

    /// Creates a store. Connects lazily, on first use.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad option.
    public init(configuration: Configuration) throws(TenantedError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = configuration.logger
        let catalogName = configuration.catalogServer ?? configuration.servers[0].name
        self.catalogServer = configuration.servers.first { $0.name == catalogName }!
        self.servers = Dictionary(uniqueKeysWithValues: configuration.servers.map { ($0.name, $0) })
        self.budgets = Dictionary(uniqueKeysWithValues: configuration.servers.map {
            ($0.name, ConnectionBudget(server: $0.name, limit: configuration.maximumConnectionsPerServer))
        })
        switch configuration.layout {
        case .databasePerTenant: catalogKey = "database:" + configuration.prefix
        case .schemaPerTenant: catalogKey = "schema:" + configuration.prefix
        }
        self.watcher = PlacementWatcher(key: catalogKey, logger: configuration.logger)
    }

    /// A database-per-tenant store on the servers at `urls` (named `server1`, `server2`… in order).
    public static func databasePerTenant(urls: [String], prefix: String = "tenant_") throws(TenantedError) -> PostgresStore {
        try PostgresStore(configuration: .init(servers: try servers(urls), layout: .databasePerTenant(), prefix: prefix))
    }

    /// A schema-per-tenant store on the servers at `urls` (named `server1`, `server2`… in order).
    public static func schemaPerTenant(urls: [String], mode: SchemaMode = .poolPerTenant, prefix: String = "tenant_") throws(TenantedError) -> PostgresStore {
        try PostgresStore(configuration: .init(servers: try servers(urls), layout: .schemaPerTenant(mode), prefix: prefix))
    }

    private static func servers(_ urls: [String]) throws(TenantedError) -> [PostgresServer] {
        var servers: [PostgresServer] = []
        for (index, url) in urls.enumerated() {
            servers.append(try PostgresServer(name: "server\(index + 1)", url: url))
        }
        return servers
    }

    public var serverNames: [String] { configuration.servers.map(\.name) }

    // MARK: Names

    /// The database or schema name of `tenant`.
    /// - Throws: ``Tenanted/TenantedError/Code/badTenantName`` when prefix + name exceed 63 bytes.
    public func objectName(of tenant: TenantID) throws(TenantedError) -> String {
        let name = configuration.prefix + tenant.rawValue
        guard name.utf8.count <= 63 else {
            throw TenantedError(
                .badTenantName,
                "tenant name '\(tenant)' is too long for PostgreSQL: the prefix '\(configuration.prefix)' plus the name must fit 63 bytes",
                tenant: tenant
            )
        }
        return name
    }

    var isDatabaseLayout: Bool {
        if case .databasePerTenant = configuration.layout { return true }
        return false
    }

    /// The database holding `object` on `server`, and the schema its tables are in.
    func location(of object: String, on server: PostgresServer) -> (database: String, schema: String) {
        isDatabaseLayout ? (object, "public") : (server.database, object)
    }

    func server(named name: String) throws(TenantedError) -> PostgresServer {
        guard let server = servers[name] else {
            throw TenantedError(.invalidConfiguration, "unknown PostgreSQL server '\(name)' (servers: \(serverNames.joined(separator: ", ")))")
        }
        return server
    }

    // MARK: TenantStore

    public func create(_ tenant: TenantID, prepare: (PostgresTenantPool) async throws -> Void) async throws {
        try await withoutActuallyEscaping(prepare) { prepare in
            try await create(tenant, template: nil, prepare: prepare)
        }
    }

    /// The create; `template` names a template database (database layout) to copy instead of the
    /// configured one, or a schema template (schema layout) to replay, and without `prepare` no pool
    /// is opened.
    func create(_ tenant: TenantID, template: String?, prepare: ((PostgresTenantPool) async throws -> Void)?) async throws {
        let object = try objectName(of: tenant)
        try await withTenantLock(tenant, waiting: false, operation: "create") { catalog in
            if let existing = try await catalog.placement(of: tenant) {
                let holder = try server(named: existing.server)
                if existing.ready { throw TenantedError.exists(tenant) }
                // A create, restore or destroy that died with its session (and its lock) after the
                // row was written or made not ready. The row's `ready` is the commit point: whatever
                // is at the name was never committed (or was being destroyed), even when it is
                // complete and marked, so it goes, and this create starts afresh.
                logger.notice("removing the leftovers of an interrupted create, restore or destroy", metadata: [Logger.tenantMetadataKey: "\(tenant)", "server": "\(holder.name)"])
                try await dropObject(object, on: holder, tenant: tenant)
                // An interrupted restore's staging copy, if that is what this was.
                try await dropObject(restoreStagingName(of: tenant), on: holder, tenant: tenant)
                try await catalog.remove(tenant)
            }
            let server = try await choose(for: tenant, catalog: catalog)
            try await catalog.insert(tenant, server: server.name)
            do {
                // From a schema template with nothing to run on it, one statement makes the schema
                // complete and marked.
                let markedAlready = template != nil && !isDatabaseLayout && prepare == nil
                try await createObject(object, on: server, tenant: tenant, template: template, markingReady: markedAlready)
                if let prepare {
                    try await withOwnPool(tenant, object: object, on: server, prepare)
                }
                if !markedAlready { try await markReady(object, on: server, tenant: tenant, ready: true) }
                try await catalog.setReady(tenant, server: server.name)
                // Pools other processes may still hold of an earlier tenant of this name go stale.
                try? await catalog.announce(tenant)
            } catch {
                do {
                    try await dropObject(object, on: server, tenant: tenant)
                    try await catalog.remove(tenant)
                } catch let cleanup {
                    logger.error("could not remove a failed create; the tenant stays invisible and the next create removes it", metadata: [
                        Logger.tenantMetadataKey: "\(tenant)", "error": "\(String(reflecting: cleanup))",
                    ])
                }
                throw error
            }
        }
    }

    public func destroy(_ tenant: TenantID) async throws {
        let object = try objectName(of: tenant)
        try await withTenantLock(tenant, waiting: true, operation: "destroy") { catalog in
            guard let placement = try await catalog.placement(of: tenant), placement.ready else {
                throw TenantedError.notFound(tenant, "destroy")
            }
            let server = try server(named: placement.server)
            // Invisible first, then gone: a failure half-way leaves an unlisted leftover that the
            // next create of the name removes.
            try await catalog.setNotReady(tenant)
            // Every process stops using the tenant before its database or schema goes.
            try await catalog.announce(tenant)
            try await dropObject(object, on: server, tenant: tenant)
            try await catalog.remove(tenant)
        }
    }

    public func exists(_ tenant: TenantID) async throws -> Bool {
        let object = try objectName(of: tenant)
        guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else { return false }
        return try await isMarkedReady(object, on: try server(named: placement.server))
    }

    public func tenants() async throws -> [TenantID] {
        let placements = try await catalog { try await $0.readyPlacements() }
        var result: [TenantID] = []
        for server in configuration.servers {
            let here = placements.filter { $0.server == server.name }
            if here.isEmpty { continue }
            let marked = Set(try await markedObjects(on: server))
            for placement in here where marked.contains(configuration.prefix + placement.tenant.rawValue) {
                result.append(placement.tenant)
            }
        }
        return result.sorted()
    }

    public func open(_ tenant: TenantID) async throws -> PostgresTenantPool {
        try await open(tenant, ignoringSuspension: false)
    }

    /// Opens a registry pool; a suspended tenant is refused unless `ignoringSuspension`.
    func open(_ tenant: TenantID, ignoringSuspension: Bool) async throws -> PostgresTenantPool {
        let object = try objectName(of: tenant)
        // Listen before reading the placement: a change made after the read is announced to us.
        await watcher.start(self)
        var attempt = 0
        while true {
            attempt += 1
            let mark = watcher.mark()
            guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else {
                throw TenantedError.notFound(tenant, "open")
            }
            if let reason = placement.suspended, !ignoringSuspension {
                throw TenantedError.suspended(tenant, reason: reason.isEmpty ? nil : reason)
            }
            let pool = try await openPool(tenant, object: object, on: try server(named: placement.server), generation: placement.generation)
            watcher.register(pool)
            // A change announced between the placement read and the register found no pool here to
            // invalidate: read the placement again now that the watcher knows the pool. Without this,
            // a pool opened on a database another process has just dropped stays "current", and its
            // first query waits for ever on a client retrying a connection that cannot succeed.
            // Unless the watcher listened all along and heard nothing meanwhile: then nothing was
            // missed (``PlacementWatcher/nothingArrived(since:)``), and the second read is saved.
            if !watcher.nothingArrived(since: mark) { await verify(pool) }
            if pool.isCurrent { return pool }
            watcher.unregister(pool)
            await pool.close()
            if pool.currentValidity == .gone { throw TenantedError.notFound(tenant, "open") }
            // Moved (or re-created) meanwhile: open where the catalog says now.
            if attempt >= 3 {
                throw TenantedError(.storeFailure, "tenant '\(tenant)' kept changing while its pool opened; retry", tenant: tenant)
            }
        }
    }

    public func close(_ pool: PostgresTenantPool) async {
        watcher.unregister(pool)
        await pool.close()
    }

    /// No I/O: `false` once this process learned (from the catalog server's announcements, or from
    /// an error that made the pool ask the catalog) that the tenant was destroyed, re-created or
    /// moved since the pool opened.
    public func isCurrent(_ pool: PostgresTenantPool) -> Bool {
        pool.isCurrent
    }

    /// Asks the catalog whether `pool` still serves its tenant, and invalidates it when not. With the
    /// catalog unreachable there is no verdict and the pool is left as it is.
    func verify(_ pool: PostgresTenantPool) async {
        let found: Placement??
        do {
            found = .some(try await catalog { try await $0.placement(of: pool.tenant) })
        } catch {
            found = .none
        }
        guard case .some(let placement) = found else { return }
        guard let placement, placement.ready else {
            pool.invalidate(gone: true)
            return
        }
        if placement.generation != pool.generation { pool.invalidate(gone: false) }
    }

    /// Stops listening for changes, then the maintenance, catalog and shared clients. A later use
    /// starts them again.
    public func shutdown() async {
        await watcher.stop()
        let starting = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for start in starting {
            // One still waiting for its budget stops waiting.
            start.cancel()
            guard let client = try? await start.value else { continue }
            client.task.cancel()
            await client.task.value
            client.reservation.release()
        }
        catalogReady.withLock { $0 = false }
    }

    public func server(of tenant: TenantID) async throws -> String {
        guard let placement = try await catalog({ try await $0.placement(of: tenant) }), placement.ready else {
            throw TenantedError.notFound(tenant, "server(of:)")
        }
        return placement.server
    }

    // MARK: Pools

    /// Opens a pool of `tenant`'s `object` on `server`. A pool of the registry gets the tenant's
    /// `generation` and a verifier; a create's own pool (generation 0) has none.
    func openPool(_ tenant: TenantID, object: String, on server: PostgresServer, generation: Int64 = 0) async throws -> PostgresTenantPool {
        let (database, schema) = location(of: object, on: server)
        let client: PostgresClient
        let running: Task<Void, Never>?
        let setsLocal: Bool
        var reservation: ConnectionReservation?
        // A registry pool hears of its own failed connection attempts (a database dropped by
        // another process fails every one): see ConnectFailureLogHandler.
        let connectFailures = ConnectFailureLogHandler.Target()
        let poolLogger = generation != 0 ? logger.reportingConnectFailures(to: connectFailures) : logger
        switch configuration.layout {
        case .databasePerTenant:
            reservation = try await reserve(configuration.maximumConnectionsPerTenant, on: server.name, for: "the pool of tenant '\(tenant)'", tenant: tenant)
            client = PostgresClient(configuration: server.clientConfiguration(
                database: database, maximumConnections: configuration.maximumConnectionsPerTenant,
                minimumConnections: configuration.minimumConnectionsPerPool
            ), eventLoopGroup: configuration.eventLoopGroup, backgroundLogger: poolLogger)
            running = await client.startRunning()
            setsLocal = false
        case .schemaPerTenant(.poolPerTenant):
            // Fail closed: a pooler may drop the parameter below (PostgresStore+SchemaCheck.swift).
            try await withReservation(1, on: server.name, for: "the schema check of tenant '\(tenant)'", tenant: tenant) {
                try await verifySearchPath(on: server, database: database, schema: schema, tenant: tenant)
            }
            reservation = try await reserve(configuration.maximumConnectionsPerTenant, on: server.name, for: "the pool of tenant '\(tenant)'", tenant: tenant)
            // The schema is a startup parameter: every connection of this pool is born in it, and no
            // SET ever changes a pooled session.
            client = PostgresClient(configuration: server.clientConfiguration(
                database: database, maximumConnections: configuration.maximumConnectionsPerTenant,
                minimumConnections: configuration.minimumConnectionsPerPool,
                startupParameters: [("search_path", PostgresSQL.identifier(schema))]
            ), eventLoopGroup: configuration.eventLoopGroup, backgroundLogger: poolLogger)
            running = await client.startRunning()
            setsLocal = false
        case .schemaPerTenant(.sharedPool):
            client = try await self.client(.shared(server.name))
            running = nil
            setsLocal = true
        }
        var verifier: (@Sendable (PostgresTenantPool) async -> Void)?
        if generation != 0 {
            verifier = { [weak self] pool in await self?.verify(pool) }
        }
        let pool = PostgresTenantPool(
            tenant: tenant, server: server.name, database: database, schema: schema,
            client: client, running: running, reservation: reservation, setsLocalSearchPath: setsLocal,
            generation: generation, verifier: verifier
        )
        connectFailures.attach(pool)
        return pool
    }

    /// Runs `body` on a pool of its own over `object` (a create's, a restore's, a template's), and
    /// closes the pool after, also when `body` throws.
    func withOwnPool(_ tenant: TenantID, object: String, on server: PostgresServer, _ body: (PostgresTenantPool) async throws -> Void) async throws {
        let pool = try await openPool(tenant, object: object, on: server)
        do {
            try await body(pool)
        } catch {
            await close(pool)
            throw error
        }
        await close(pool)
    }

    // MARK: Clients

    enum ClientRole: Hashable {
        /// Catalog rows, on the catalog server.
        case catalog
        /// The per-tenant advisory locks' transactions, on the catalog server (a pool of its own, so
        /// an operation's catalog statements never wait behind the locks it holds).
        case locks
        /// DDL and listings on a server: its maintenance (database layout) or tenants' database.
        case maintenance(String)
        /// The pool every tenant of a server shares in ``SchemaMode/sharedPool``.
        case shared(String)
    }

    struct RunningClient {
        let client: PostgresClient
        let task: Task<Void, Never>
        /// Its share of its server's connection budget, given back after `task` ended.
        let reservation: ConnectionReservation
    }

    /// The running client of `role`, started on first use (once, however many tasks ask), after its
    /// server's budget granted its connections.
    /// - Throws: ``Tenanted/TenantedError/Code/poolLimitReached`` when the budget had no room in time.
    func client(_ role: ClientRole) async throws -> PostgresClient {
        let start = clients.withLock { clients in
            if let start = clients[role] { return start }
            let start = Task { try await startClient(role) }
            clients[role] = start
            return start
        }
        do {
            return try await start.value.client
        } catch {
            // The next use tries again.
            clients.withLock { clients in
                if clients[role] == start { clients[role] = nil }
            }
            throw error
        }
    }

    private func startClient(_ role: ClientRole) async throws -> RunningClient {
        let server: PostgresServer
        let purpose: String
        switch role {
        case .catalog: (server, purpose) = (catalogServer, "the catalog client")
        case .locks: (server, purpose) = (catalogServer, "the tenant lock client")
        case .maintenance(let name): (server, purpose) = (servers[name]!, "the maintenance client")
        case .shared(let name): (server, purpose) = (servers[name]!, "the shared pool")
        }
        let size: Int
        if case .shared = role { size = configuration.maximumSharedConnections } else { size = configuration.maximumMaintenanceConnections }
        let reservation = try await reserve(size, on: server.name, for: purpose, tenant: nil)
        let client = PostgresClient(
            configuration: server.clientConfiguration(
                database: server.database, maximumConnections: size,
                minimumConnections: role == .shared(server.name) ? configuration.minimumConnectionsPerPool : 0
            ),
            eventLoopGroup: configuration.eventLoopGroup,
            backgroundLogger: logger
        )
        return RunningClient(client: client, task: await client.startRunning(), reservation: reservation)
    }

    /// Runs `body` with a short-lived client connected to `database` on `server`.
    func withClient<Result: Sendable>(on server: PostgresServer, database: String, _ body: (PostgresClient) async throws -> Result) async throws -> Result {
        let reservation = try await reserve(2, on: server.name, for: "a short-lived client", tenant: nil)
        defer { reservation.release() }
        let client = PostgresClient(
            configuration: server.clientConfiguration(database: database, maximumConnections: 2),
            eventLoopGroup: configuration.eventLoopGroup,
            backgroundLogger: logger
        )
        let task = await client.startRunning()
        do {
            let result = try await body(client)
            task.cancel()
            await task.value
            return result
        } catch {
            task.cancel()
            await task.value
            throw error
        }
    }
}

extension PostgresClient {
    /// Runs the client in a task of its own and returns once the task has begun `run()`, so the
    /// first lease does not find the client idle (postgres-nio warns then).
    func startRunning() async -> Task<Void, Never> {
        let (signal, started) = AsyncStream<Void>.makeStream()
        let task = Task {
            started.finish()
            await self.run()
        }
        for await _ in signal {}
        return task
    }
}
