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
        let migrator = try requireMigrator()
        let pool = try await store.open(tenant)
        let applied: [String]
        do {
            let pending = try await migrator.pendingMigrations(on: pool, tenant: tenant)
            applied = pending.isEmpty ? [] : try await migrator.migrate(pool, tenant: tenant)
        } catch {
            await store.close(pool)
            throw TenantedError.migration(tenant, error)
        }
        await store.close(pool)
        if applied.isEmpty { return [] }
        metrics.migrated.increment(by: applied.count)
        logger.info("migrated tenant", metadata: ["tenant": "\(tenant)", "migrations": "\(applied.count)"])
        delegate.tenantMigrated(tenant, migrations: applied)
        return applied
    }

    /// Applies pending migrations to every tenant, at most `maximumConcurrency` tenants at a time.
    ///
    /// One tenant's failure does not stop the others: it is recorded in the report, whose
    /// ``MigrationReport/succeeded`` is then `false`. A tenant that is already current costs one read
    /// of its migration log and nothing else.
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
        _ = try requireMigrator()
        let tenants = try await tenants()
        var results: [TenantMigrationResult] = []
        results.reserveCapacity(tenants.count)
        try await forEach(tenants, maximumConcurrency: maximumConcurrency) { tenant in
            do {
                let applied = try await self.migrate(tenant)
                return TenantMigrationResult(tenant: tenant, outcome: applied.isEmpty ? .current : .migrated(applied))
            } catch {
                return TenantMigrationResult(tenant: tenant, outcome: .failed(TenantedError.migration(tenant, error)))
            }
        } collect: { result in
            results.append(result)
            progress?(MigrationProgress(completed: results.count, total: tenants.count, latest: result))
        }
        return MigrationReport(results: results.sorted { $0.tenant < $1.tenant })
    }

    private func requireMigrator() throws(TenantedError) -> any TenantMigrator<Store.Pool> {
        guard let migrator else {
            throw TenantedError(.invalidConfiguration, "this Tenancy has no migrator; pass one to Tenancy(store:migrator:)")
        }
        return migrator
    }
}

/// What migrating one tenant did.
public struct TenantMigrationResult: Sendable {
    /// The outcome for one tenant.
    public enum Outcome: Sendable {
        /// These migrations were applied, in order.
        case migrated([String])
        /// Nothing was pending.
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

    /// The tenants that failed.
    public var failures: [TenantMigrationResult] { results.filter { $0.error != nil } }
    /// The tenants that had migrations applied.
    public var migrated: [TenantMigrationResult] {
        results.filter { if case .migrated = $0.outcome { return true } else { return false } }
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
