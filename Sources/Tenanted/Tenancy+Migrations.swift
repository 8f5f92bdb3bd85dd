import CoreMetrics
import Logging

extension Tenancy {
    /// Applies pending migrations to one tenant and returns the names applied (empty when current).
    ///
    /// Works on a tenant whose schema is behind (whose pool therefore cannot open through
    /// ``withTenant(_:prohibitingSwitches:isolation:_:)``): it uses a pool of its own, closed afterwards.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound``, ``TenantedError/Code/migrationFailed`` (with the
    ///   migration's error as `underlying`), or ``TenantedError/Code/invalidConfiguration`` when the
    ///   tenancy has no migrator.
    @discardableResult
    public func migrate(_ tenant: TenantID) async throws -> [String] {
        let backend = try migratingBackend()
        if await hasNothingPending(tenant, backend) { return [] }
        let hooks = configuration.hooks
        let applied = try await withOwnPool(tenant) { pool in
            let pending = try await backend.pendingMigrations(on: pool, tenant: tenant)
            if pending.isEmpty { return [String]() }
            try await TenancyHooks.run(hooks.beforeMigrate, tenant)
            return try await backend.migrate(pool, tenant: tenant)
        }
        if applied.isEmpty { return [] }
        for hook in hooks.afterMigrate { try await hook(tenant, applied) }
        metrics.migrated.increment(by: applied.count)
        logger.info("migrated tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "migrations": "\(applied.count)"])
        delegate.tenantMigrated(tenant, migrations: applied)
        return applied
    }

    /// Reverts the last batch of migrations applied to one tenant and returns the names reverted,
    /// newest first (empty when nothing was applied).
    ///
    /// Like ``migrate(_:)`` it uses a pool of its own, so it works on a tenant whose schema does not
    /// match the registered migrations. Pools of the tenant that are open elsewhere in this process
    /// keep serving; a tenant rolled back behind a registered migration fails to open again with
    /// ``TenantedError/Code/pendingMigrations`` until it is migrated, here and, through the store
    /// (``TenantStore/migrationsReverted(_:)``), in every other process.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound``, ``TenantedError/Code/migrationFailed`` (with the
    ///   migrator's error as `underlying`), or ``TenantedError/Code/invalidConfiguration`` when the
    ///   tenancy has no migrator or its migrator cannot roll back.
    @discardableResult
    public func rollback(_ tenant: TenantID) async throws -> [String] {
        let backend = try migratingBackend()
        let reverted = try await withOwnPool(tenant) { pool in
            try await backend.revertLastBatch(pool, tenant: tenant)
        }
        if !reverted.isEmpty {
            // After the revert committed: every process's next open reads the migration log again.
            migrated.forget(tenant)
            await backend.migrationsReverted(tenant)
            logger.info("rolled back tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "migrations": "\(reverted.count)"])
        }
        return reverted
    }

    /// Reverts the last batch of every tenant, at most `maximumConcurrency` tenants at a time;
    /// one tenant's failure does not stop the others.
    ///
    /// Each result's outcome is ``TenantMigrationResult/Outcome/reverted(_:)``, or
    /// ``TenantMigrationResult/Outcome/current`` when the tenant had nothing applied.
    public func rollbackAll(
        maximumConcurrency: Int? = nil,
        progress: (@Sendable (MigrationProgress) -> Void)? = nil
    ) async throws -> MigrationReport {
        _ = try migratingBackend()
        return try await eachTenantReport(maximumConcurrency: maximumConcurrency, progress: progress) { tenant in
            let reverted = try await self.rollback(tenant)
            return reverted.isEmpty ? .current : .reverted(reverted)
        }
    }

    /// Which registered migrations one tenant has applied and which are pending.
    ///
    /// Reads the migration log only, on a pool of its own (so it works on a stale tenant too).
    public func migrationStatus(_ tenant: TenantID) async throws -> MigrationStatus {
        let backend = try migratingBackend()
        return try await withOwnPool(tenant, ignoringSuspension: true) { pool in
            MigrationStatus(
                tenant: tenant,
                applied: try await backend.appliedMigrations(on: pool, tenant: tenant),
                pending: try await backend.pendingMigrations(on: pool, tenant: tenant)
            )
        }
    }

    /// Whether `tenant` has no pending migration, read on a pool for reading when the store has one
    /// (``ReadPoolStore``): cheaper than a full open, which ``migrate(_:)`` then skips.
    ///
    /// Only a definite "nothing pending" counts: `false` when the store has no such pool, when
    /// something is pending and whenever anything fails (a missing, suspended or broken tenant),
    /// so the full path decides, and reports, every case but the one that costs nothing.
    private func hasNothingPending(_ tenant: TenantID, _ backend: any TenancyBackend) async -> Bool {
        do {
            // Registered with the registry like `withOwnPool`: a destroy in this process waits for it.
            return try await pools.withOperation(on: tenant) {
                guard let pool = try await backend.openForReading(tenant) else { return false }
                do {
                    let pending = try await backend.pendingMigrations(on: pool, tenant: tenant)
                    await backend.close(pool)
                    return pending.isEmpty
                } catch {
                    await backend.close(pool)
                    return false
                }
            }
        } catch {
            return false
        }
    }

    /// Opens a pool of `tenant` outside the registry, runs `body`, closes it; errors other than a
    /// missing tenant become ``TenantedError/Code/migrationFailed``. A destroy of the tenant in this
    /// process waits until it is done; while a destroy runs it fails with `tenantNotFound`.
    private func withOwnPool<Result: Sendable>(
        _ tenant: TenantID,
        ignoringSuspension: Bool = false,
        _ body: (any Sendable) async throws -> Result
    ) async throws -> Result {
        // Registered with the registry, so a destroy of the tenant in this process waits for it.
        try await pools.withOperation(on: tenant) {
            let pool = try await ignoringSuspension ? backend.openIgnoringSuspension(tenant) : backend.open(tenant)
            do {
                let result = try await body(pool)
                await backend.close(pool)
                return result
            } catch {
                await backend.close(pool)
                throw TenantedError.migration(tenant, error)
            }
        }
    }

    private func eachTenantReport(
        maximumConcurrency: Int?,
        progress: (@Sendable (MigrationProgress) -> Void)?,
        _ work: @escaping @Sendable (TenantID) async throws -> TenantMigrationResult.Outcome
    ) async throws -> MigrationReport {
        let tenants = try await tenants()
        var results: [TenantMigrationResult] = []
        results.reserveCapacity(tenants.count)
        try await forEach(tenants, maximumConcurrency: maximumConcurrency) { tenant in
            do {
                return TenantMigrationResult(tenant: tenant, outcome: try await work(tenant))
            } catch {
                return TenantMigrationResult(tenant: tenant, outcome: .failed(TenantedError.migration(tenant, error)))
            }
        } collect: { result in
            results.append(result)
            progress?(MigrationProgress(completed: results.count, total: tenants.count, latest: result))
        }
        return MigrationReport(results: results.sorted { $0.tenant < $1.tenant })
    }

    /// Applies pending migrations to every tenant, at most `maximumConcurrency` tenants at a time.
    ///
    /// One tenant's failure does not stop the others: it is recorded in the report, whose
    /// ``MigrationReport/succeeded`` is then `false`. A tenant that is already current costs one read
    /// of its migration log and nothing else; on a store with a cheaper pool for reading (the SQLite
    /// store: one connection with `busy_timeout` alone), that read does not even open a full pool.
    ///
    /// - Parameters:
    ///   - maximumConcurrency: tenants migrated at once. Default: ``Configuration/defaultConcurrency``.
    ///   - progress: called after each tenant, in completion order, never concurrently.
    /// - Throws: only when the tenants cannot be listed or there is no migrator; per-tenant failures
    ///   are in the report.
    public func migrateAll(
        maximumConcurrency: Int? = nil,
        progress: (@Sendable (MigrationProgress) -> Void)? = nil
    ) async throws -> MigrationReport {
        _ = try migratingBackend()
        return try await eachTenantReport(maximumConcurrency: maximumConcurrency, progress: progress) { tenant in
            let applied = try await self.migrate(tenant)
            return applied.isEmpty ? .current : .migrated(applied)
        }
    }

    private func migratingBackend() throws(TenantedError) -> any TenancyBackend {
        guard backend.hasMigrator else {
            throw TenantedError(.invalidConfiguration, "this Tenancy has no migrator; pass one to Tenancy(store:migrator:)")
        }
        return backend
    }
}

/// What migrating one tenant did.
public struct TenantMigrationResult: Sendable {
    /// The outcome for one tenant.
    public enum Outcome: Sendable {
        /// These migrations were applied, in order.
        case migrated([String])
        /// These migrations were reverted, newest first (``Tenancy/rollbackAll(maximumConcurrency:progress:)``).
        case reverted([String])
        /// Nothing was pending (or, for a rollback, nothing was applied).
        case current
        /// Migrating failed; the tenant is left as the failed migration left it (see the migrator).
        case failed(TenantedError)
    }

    /// The tenant.
    public var tenant: TenantID
    /// What happened.
    public var outcome: Outcome

    /// Creates a result.
    public init(tenant: TenantID, outcome: Outcome) {
        self.tenant = tenant
        self.outcome = outcome
    }

    /// The error, when migrating failed.
    public var error: TenantedError? {
        if case .failed(let error) = outcome { return error }
        return nil
    }
}

/// Reported after each tenant by ``Tenancy/migrateAll(maximumConcurrency:progress:)``.
public struct MigrationProgress: Sendable {
    /// Tenants done so far, this one included.
    public var completed: Int
    /// Tenants in all.
    public var total: Int
    /// The tenant just done.
    public var latest: TenantMigrationResult
}

/// The result of ``Tenancy/migrateAll(maximumConcurrency:progress:)``: one entry per tenant.
public struct MigrationReport: Sendable {
    /// Every tenant's result, sorted by tenant.
    public var results: [TenantMigrationResult]

    /// Creates a report.
    public init(results: [TenantMigrationResult]) {
        self.results = results
    }

    /// The tenants that failed.
    public var failures: [TenantMigrationResult] { results.filter { $0.error != nil } }
    /// The tenants that had migrations applied.
    public var migrated: [TenantMigrationResult] {
        results.filter { if case .migrated = $0.outcome { return true } else { return false } }
    }
    /// The tenants that had migrations reverted.
    public var reverted: [TenantMigrationResult] {
        results.filter { if case .reverted = $0.outcome { return true } else { return false } }
    }
    /// The tenants that were already current.
    public var current: [TenantMigrationResult] {
        results.filter { if case .current = $0.outcome { return true } else { return false } }
    }
    /// Whether every tenant is now current.
    public var succeeded: Bool { failures.isEmpty }
    /// A process exit status: 0 when every tenant succeeded, 1 otherwise.
    public var exitStatus: Int32 { succeeded ? 0 : 1 }
}

/// Which registered migrations a tenant has applied and which are pending
/// (``Tenancy/migrationStatus(_:)``).
public struct MigrationStatus: Sendable, Hashable {
    /// The tenant.
    public var tenant: TenantID
    /// Applied migrations, oldest first.
    public var applied: [String]
    /// Registered migrations not applied yet, in the order they would apply.
    public var pending: [String]

    /// Creates a status.
    public init(tenant: TenantID, applied: [String], pending: [String]) {
        self.tenant = tenant
        self.applied = applied
        self.pending = pending
    }
}
