public import Logging
public import CoreMetrics
import Metrics
public import ServiceLifecycle

/// The entry point of Tenanted: one store, one registry of open pools, and the tenant lifecycle.
///
/// ```swift
/// let tenancy = try Tenancy(store: try SQLiteStore(), migrator: MyMigrations())
/// try await tenancy.createTenant(TenantID("acme"))
/// try await tenancy.withTenant(TenantID("acme")) {
///     // Tenant.current == "acme"; Tenant.lease holds acme's open pool
/// }
/// ```
///
/// `Tenancy` is a ServiceLifecycle `Service`: run it in your `ServiceGroup` so idle pools are swept
/// and every pool is closed on graceful shutdown, or call ``shutdown()`` yourself.
///
/// It is not generic: the store's type is erased inside, so an application keeps one `Tenancy`
/// wherever it keeps things (Vapor's `Application`, a Hummingbird context, a command). Reach the
/// current tenant's pool with its type: ``currentPool(as:)``.
public final class Tenancy: Service, Sendable {
    /// Options of a ``Tenancy``.
    public struct Configuration: Sendable {
        /// Sizes and timeouts of the pool registry. Default: 50 open pools, see ``TenantPools/Configuration``.
        public var pools: TenantPools<any Sendable>.Configuration
        /// Apply pending migrations when a tenant's pool opens, instead of throwing
        /// ``TenantedError/Code/pendingMigrations``. Default: `false` (a stale schema is an error).
        public var autoMigrate: Bool
        /// Tenants processed at once by ``Tenancy/migrateAll(maximumConcurrency:progress:)`` and
        /// ``Tenancy/forEachTenant(maximumConcurrency:_:)`` when the call does not say. Default: 4.
        public var defaultConcurrency: Int
        /// Code of yours around create, destroy, migrate and entering a tenant. Default: none.
        public var hooks: TenancyHooks
        /// Create tenants by copying a migrated template (made once per migration set, remade when it
        /// changes) instead of running every migration, when the migrator lists its migrations.
        /// Default: `true`.
        public var createsFromTemplate: Bool
        /// The tenant file storage whose files travel with the tenant's data: ``Tenancy/backup(_:to:)``
        /// includes a tenant's files, ``Tenancy/restore(_:from:replace:)`` brings them back and
        /// ``Tenancy/clone(_:to:)`` copies them. Default: `nil` (backups hold the database alone).
        /// Removing files on destroy is separate: ``TenantFiles/removeOnDestroy(_:)``.
        public var files: TenantFiles?

        /// Creates a configuration; every parameter has the default documented on its property.
        public init(
            pools: TenantPools<any Sendable>.Configuration = .init(),
            autoMigrate: Bool = false,
            defaultConcurrency: Int = 4,
            hooks: TenancyHooks = .init(),
            createsFromTemplate: Bool = true,
            files: TenantFiles? = nil
        ) {
            self.pools = pools
            self.autoMigrate = autoMigrate
            self.defaultConcurrency = defaultConcurrency
            self.hooks = hooks
            self.createsFromTemplate = createsFromTemplate
            self.files = files
        }
    }

    /// Where the tenants' databases live; cast it to the store's type for store-specific API.
    public var store: any TenantStore { backend.store }
    /// The store as its own type, for store-specific API (paths, servers, event loops).
    ///
    /// ```swift
    /// let path = try tenancy.store(as: SQLiteStore.self).databasePath(for: acme)
    /// ```
    /// - Throws: ``TenantedError/Code/misuse`` when the store is not a `Store`.
    public func store<Store: TenantStore>(as type: Store.Type) throws(TenantedError) -> Store {
        guard let store = backend.store as? Store else {
            throw TenantedError(.misuse, "store(as: \(Store.self).self): this Tenancy's store is \(Swift.type(of: backend.store))")
        }
        return store
    }

    /// The registry of open pools.
    public let pools: TenantPools<any Sendable>
    /// The options in force.
    public let configuration: Configuration
    let backend: any TenancyBackend
    /// The tenants found with every migration, by the store's stamp of their last open.
    let migrated: MigratedTenants
    let delegate: any TenancyDelegate
    let logger: Logger
    let metrics: TenancyMetrics

    /// Creates a tenancy.
    ///
    /// - Parameters:
    ///   - store: where tenant databases live.
    ///   - configuration: pool sizes and options.
    ///   - migrator: the tenant schema's migrations; `nil` for none.
    ///   - seed: runs on every new tenant after its migrations.
    ///   - delegate: told about tenant and pool events.
    ///   - logger: for Tenanted's own log lines.
    ///   - metricsFactory: where metrics go. Default: the bootstrapped `MetricsSystem`.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for an out-of-range option.
    public init<Store: TenantStore>(
        store: Store,
        configuration: Configuration = .init(),
        migrator: (any TenantMigrator<Store.Pool>)? = nil,
        seed: TenantSeed<Store.Pool>? = nil,
        delegate: any TenancyDelegate = NoTenancyDelegate(),
        logger: Logger = Logger(label: "tenanted"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) throws(TenantedError) {
        if configuration.defaultConcurrency < 1 {
            throw TenantedError(.invalidConfiguration, "defaultConcurrency must be at least 1, got \(configuration.defaultConcurrency)")
        }
        let backend = TypedBackend(typedStore: store, migrator: migrator, typedSeed: seed)
        self.backend = backend
        self.configuration = configuration
        self.delegate = delegate
        self.logger = logger
        self.metrics = TenancyMetrics(factory: metricsFactory)
        let autoMigrate = configuration.autoMigrate
        let hooks = configuration.hooks
        // Room for every open pool's tenant many times over: a churning registry finds most tenants it
        // reopens still known.
        let migrated = MigratedTenants(capacity: max(10_000, 4 * configuration.pools.maximumOpenPools))
        self.migrated = migrated
        self.pools = try TenantPools(
            configuration: configuration.pools,
            delegate: delegate,
            logger: logger,
            metricsFactory: metricsFactory,
            open: { [delegate, logger] tenant in
                let pool = try await backend.open(tenant)
                guard backend.hasMigrator else { return pool }
                // Read before the check: a change landing during it gives the next open another stamp.
                let stamp = backend.migrationStamp(of: pool)
                if let stamp, migrated.contains(tenant, at: stamp) { return pool }
                do {
                    let pending = try await backend.pendingMigrations(on: pool, tenant: tenant)
                    if let first = pending.first {
                        guard autoMigrate else { throw TenantedError.pending(tenant, first: first, count: pending.count) }
                        try await TenancyHooks.run(hooks.beforeMigrate, tenant)
                        let applied = try await backend.migrate(pool, tenant: tenant)
                        for hook in hooks.afterMigrate { try await hook(tenant, applied) }
                        logger.info("auto-migrated tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "migrations": "\(applied.count)"])
                        delegate.tenantMigrated(tenant, migrations: applied)
                    }
                    if let stamp { migrated.record(tenant, at: stamp) }
                    return pool
                } catch {
                    await backend.close(pool)
                    throw error
                }
            },
            close: { pool in await backend.close(pool) },
            isCurrent: { pool in backend.isCurrent(pool) }
        )
        // The store may ask for idle pools to close (a connection budget). Weak: the registry holds
        // the store through its opener, and the store must not keep the registry alive in return.
        store.attachRegistry(TenantPoolReclaimer { [weak pools = self.pools] count, matching in
            (pools?.closeIdlePools(count) { pool in (pool as? Store.Pool).map(matching) ?? false } ?? []).compactMap { $0 as? Store.Pool }
        })
    }

    // MARK: Scopes

    /// Runs `body` as tenant `tenant`, holding a lease on its open pool for the whole scope.
    ///
    /// The pool is opened on first use (once, however many tasks ask at the same time) and cannot be
    /// evicted while `body` runs. Inside, ``Tenant/current`` is `tenant` and ``Tenant/lease`` holds the
    /// pool. Nesting with the same tenant reuses the lease.
    ///
    /// - Throws: ``TenantedError/Code/switchProhibited`` when a different tenant's scope prohibits
    ///   switching, ``TenantedError/Code/tenantNotFound`` for a tenant that does not exist,
    ///   ``TenantedError/Code/pendingMigrations`` for a stale schema, or what `body` throws.
    public func withTenant<Result, Failure: Error>(
        _ tenant: TenantID,
        prohibitingSwitches: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws(Failure) -> Result
    ) async throws -> Result {
        var context = try Tenant.entering(tenant, prohibitingSwitches: prohibitingSwitches)
        if let lease = context.lease, pools.pool(of: lease) != nil {
            return try await Tenant.with(context, isolation: isolation, body)
        }
        let lease = try await pools.lease(tenant)
        defer { lease.release() }
        context.lease = lease
        let onEnter = configuration.hooks.onEnter
        if onEnter.isEmpty { return try await Tenant.with(context, isolation: isolation, body) }
        return try await Tenant.with(context, isolation: isolation) {
            try await TenancyHooks.run(onEnter, tenant)
            return try await body()
        }
    }

    /// The current tenant's pool, from the lease of the enclosing ``withTenant(_:prohibitingSwitches:isolation:_:)``,
    /// as the store's pool type.
    ///
    /// ```swift
    /// try await tenancy.withTenant(acme) {
    ///     let pool = try tenancy.currentPool(as: SQLitePool.self)
    /// }
    /// ```
    ///
    /// - Throws: ``TenantedError/Code/noTenant`` outside a tenant scope, or inside one that was not
    ///   entered through this tenancy (so holds no lease on its pool), or whose lease has ended (a
    ///   `Task {}` that outlived its scope); ``TenantedError/Code/misuse`` when `type` is not the
    ///   store's pool type.
    public func currentPool<Pool: Sendable>(as type: Pool.Type = Pool.self) throws(TenantedError) -> Pool {
        let tenant = try Tenant.require()
        guard let lease = Tenant.lease, let pool = pools.pool(of: lease) else {
            throw TenantedError(
                .noTenant,
                "tenant '\(tenant)' is current but this scope holds no lease from this Tenancy; "
                    + "enter it with tenancy.withTenant(_:_:)",
                tenant: tenant
            )
        }
        guard let typed = pool as? Pool else {
            throw TenantedError(.misuse, "currentPool(as: \(Pool.self).self): this Tenancy's pools are \(backend.poolType)", tenant: tenant)
        }
        return typed
    }

    /// Runs `body` once per tenant, each inside its own ``withTenant(_:prohibitingSwitches:isolation:_:)`` scope
    /// that prohibits switching, at most `maximumConcurrency` at a time.
    ///
    /// - Throws: the first error a `body` throws; the remaining tenants are cancelled.
    public func forEachTenant(
        maximumConcurrency: Int? = nil,
        _ body: @escaping @Sendable (TenantID) async throws -> Void
    ) async throws {
        let tenants = try await tenants()
        try await forEach(tenants, maximumConcurrency: maximumConcurrency) { tenant in
            try await self.enterForEach(tenant, body)
        }
    }

    // Not optimized: Swift 6.3.1's release build crashes (LLVM coroutine splitting, signal 11) on
    // the closure-specialized `withTenant` this call would otherwise produce. It runs once per
    // tenant of a `forEachTenant`; scopes elsewhere are optimized as usual.
    @_optimize(none)
    private func enterForEach(_ tenant: TenantID, _ body: @Sendable (TenantID) async throws -> Void) async throws {
        try await withTenant(tenant, prohibitingSwitches: true) { try await body(tenant) }
    }

    // MARK: Lifecycle

    /// Creates `tenant`: its database, its migrations and the seed, all or nothing.
    ///
    /// The tenant stays invisible (``tenantExists(_:)`` is `false`, ``tenants()`` omits it) until
    /// everything succeeded; on any failure every trace is removed and the error is rethrown.
    ///
    /// - Parameters:
    ///   - tenant: the new tenant's name.
    ///   - ifNotExists: when `true`, an existing tenant is not an error.
    /// - Returns: `true` when the tenant was created, `false` when it existed and `ifNotExists` is set.
    /// - Throws: ``TenantedError/Code/tenantExists`` for an existing tenant (unless `ifNotExists`),
    ///   ``TenantedError/Code/migrationFailed`` when a migration failed, or what the seed threw.
    @discardableResult
    public func createTenant(_ tenant: TenantID, ifNotExists: Bool = false) async throws -> Bool {
        if ifNotExists, try await store.exists(tenant) { return false }
        try await TenancyHooks.run(configuration.hooks.beforeCreate, tenant)
        let backend = self.backend
        do {
            // A copy of the migrated template when there is one (Tenancy+Operations.swift).
            if try await createFromTemplate(tenant) {} else {
            try await backend.create(tenant) { pool in
                let lease = TenantLease(tenant: tenant, pool: pool, owner: ObjectIdentifier(pools)) {}
                let context = TenantContext(tenant: tenant, lease: lease, prohibitsSwitching: true)
                try await Tenant.with(context) {
                    if backend.hasMigrator {
                        let applied: [String]
                        do {
                            applied = try await backend.migrate(pool, tenant: tenant)
                        } catch {
                            throw TenantedError.migration(tenant, error)
                        }
                        if !applied.isEmpty { delegate.tenantMigrated(tenant, migrations: applied) }
                    }
                    try await backend.seed(tenant, pool: pool)
                }
            }
            }
        } catch let error as TenantedError where error.code == .tenantExists && ifNotExists {
            return false
        }
        metrics.created.increment()
        logger.info("created tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
        delegate.tenantCreated(tenant)
        try await TenancyHooks.run(configuration.hooks.afterCreate, tenant)
        return true
    }

    /// Destroys `tenant`: closes this process's pool (waiting for its leases to end), then deletes the
    /// tenant's database.
    ///
    /// While this runs, new scopes for the tenant fail with ``TenantedError/Code/tenantNotFound``.
    ///
    /// Destroying a tenant that does not exist throws ``TenantedError/Code/tenantNotFound`` (unlike
    /// activerecord-tenanted, where it is a no-op): a destroy that deletes nothing is usually a typo,
    /// and saying so is cheaper than finding out later.
    public func destroyTenant(_ tenant: TenantID) async throws {
        let hooks = configuration.hooks
        if !hooks.beforeDestroy.isEmpty {
            // Before this process's scopes of the tenant are waited for: a hook may end long-lived
            // ones (live sockets) that would otherwise hold the destroy up.
            guard try await store.exists(tenant) else { throw TenantedError.notFound(tenant, "destroyTenant") }
            try await TenancyHooks.run(hooks.beforeDestroy, tenant)
        }
        try await pools.closing(tenant) {
            guard try await store.exists(tenant) else { throw TenantedError.notFound(tenant, "destroyTenant") }
            try await store.destroy(tenant)
        }
        metrics.destroyed.increment()
        logger.info("destroyed tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
        delegate.tenantDestroyed(tenant)
        try await TenancyHooks.run(hooks.afterDestroy, tenant)
    }

    /// Whether `tenant` exists and is completely created.
    public func tenantExists(_ tenant: TenantID) async throws -> Bool {
        try await store.exists(tenant)
    }

    /// Every completely created tenant, sorted.
    public func tenants() async throws -> [TenantID] {
        try await store.tenants()
    }

    // MARK: Service

    /// Runs the pool registry (idle sweeping) until graceful shutdown, then closes every pool.
    public func run() async throws {
        try await pools.run()
    }

    /// Waits for every lease to end, closes every pool, then shuts the store down
    /// (``TenantStore/shutdown()``).
    public func shutdown() async {
        await pools.shutdown()
        await store.shutdown()
    }

    // MARK: Placement

    /// The server that holds `tenant`, for a store that spreads tenants over servers.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` when the store has no servers
    ///   (SQLite), ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    public func server(of tenant: TenantID) async throws -> String {
        try await placingStore("server(of:)").server(of: tenant)
    }

    /// Moves `tenant` to `server`: copies it, verifies the copy (row counts of every table), switches
    /// the placement, closes this process's pool of the tenant and deletes the old copy.
    ///
    /// Reads go on during the copy; writes fail with a clear error until the switch. Other processes
    /// holding a pool to the old copy see errors until they evict it.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` when the store cannot move tenants or
    ///   `server` is unknown, ``TenantedError/Code/tenantNotFound``, or the store's copy failure.
    @discardableResult
    public func moveTenant(_ tenant: TenantID, to server: String) async throws -> TenantMoveReport {
        let store = try placingStore("moveTenant")
        let pools = self.pools
        let report = try await store.move(tenant, to: server) {
            // The placement now names the new server: close this process's pool (it waits for the
            // tenant's scopes to end) so the next scope opens there.
            try await pools.closing(tenant) {}
        }
        logger.info("moved tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "from": "\(report.from)", "to": "\(report.to)"])
        return report
    }

    private func placingStore(_ operation: String) throws(TenantedError) -> any TenantPlacingStore {
        guard let store = store as? any TenantPlacingStore else {
            throw TenantedError(.invalidConfiguration, "\(operation): \(type(of: store)) keeps every tenant in one place and cannot move tenants")
        }
        return store
    }

    // MARK: Helpers

    /// Runs `work` for each element, at most `maximumConcurrency` at a time, handing each result to
    /// `collect` in completion order (never concurrently). The first error cancels the rest.
    func forEach<Element: Sendable, Output: Sendable>(
        _ elements: [Element],
        maximumConcurrency: Int?,
        _ work: @escaping @Sendable (Element) async throws -> Output,
        collect: (Output) -> Void = { _ in }
    ) async throws {
        let width = max(1, maximumConcurrency ?? configuration.defaultConcurrency)
        try await withThrowingTaskGroup(of: Output.self) { group in
            var iterator = elements.makeIterator()
            for _ in 0..<width {
                guard let element = iterator.next() else { break }
                group.addTask { try await work(element) }
            }
            while let output = try await group.next() {
                collect(output)
                guard let element = iterator.next() else { continue }
                group.addTask { try await work(element) }
            }
        }
    }
}

extension TenantedError {
    static func pending(_ tenant: TenantID, first: String, count: Int) -> TenantedError {
        TenantedError(
            .pendingMigrations,
            "tenant '\(tenant)' has \(count) pending migration(s), first '\(first)'; "
                + "run migrateAll (the `tenants migrate` command) or enable autoMigrate",
            tenant: tenant
        )
    }

    static func migration(_ tenant: TenantID, _ error: any Error) -> TenantedError {
        if let error = error as? TenantedError, error.code == .migrationFailed || error.code == .invalidConfiguration {
            return error
        }
        return TenantedError(.migrationFailed, "migrating tenant '\(tenant)' failed", tenant: tenant, underlying: error)
    }
}

struct TenancyMetrics: Sendable {
    let created: Counter
    let destroyed: Counter
    let migrated: Counter

    init(factory: any MetricsFactory) {
        created = Counter(label: "tenanted_tenants_created_total", factory: factory)
        destroyed = Counter(label: "tenanted_tenants_destroyed_total", factory: factory)
        migrated = Counter(label: "tenanted_migrations_applied_total", factory: factory)
    }
}
