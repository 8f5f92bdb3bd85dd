import Synchronization
public import Tenanted

// The connection budget per server (``PostgresStore/Configuration/maximumConnectionsPerServer``):
// every client the store starts reserves its size here first, and gives it back once closed.
extension PostgresStore {
    /// Keeps the registry's reclaimer: when a server's budget runs short, idle pools of other
    /// tenants on that server are closed through it. Called by each ``Tenanted/Tenancy`` built on
    /// this store.
    public func attachRegistry(_ reclaimer: TenantPoolReclaimer<PostgresTenantPool>) {
        reclaimers.withLock { $0.append(reclaimer) }
    }

    /// The budget of the server named `name`.
    func budget(of name: String) -> ConnectionBudget {
        budgets[name]!
    }

    /// Reserves `count` connections on `server` for `purpose`: at once when they fit, else after idle
    /// pools of other tenants have closed, within ``Configuration/connectionBudgetTimeout``.
    /// - Throws: ``Tenanted/TenantedError/Code/poolLimitReached`` naming the server.
    func reserve(_ count: Int, on server: String, for purpose: String, tenant: TenantID?) async throws -> ConnectionReservation {
        let budget = budget(of: server)
        try await budget.reserve(
            count, for: purpose, tenant: tenant, timeout: configuration.connectionBudgetTimeout,
            reclaim: reclaimer(for: server)
        )
        return ConnectionReservation(budget: budget, count: count)
    }

    /// Runs `body` holding `count` connections of `server`'s budget (a single check, a `pg_dump`).
    ///
    /// The share goes back ``backendExitGrace`` after `body` returns, not at once: `body`'s
    /// connection is closed on the client's side when it returns, but PostgreSQL counts its backend
    /// (against `max_connections` too) until the backend has read the goodbye and exited. Loaded
    /// runs of the budget test saw the server hold one connection over the budget, and refuse one,
    /// right after the schema layout's one-off `search_path` check.
    func withReservation<Result>(
        _ count: Int, on server: String, for purpose: String, tenant: TenantID?,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let reservation = try await reserve(count, on: server, for: purpose, tenant: tenant)
        defer {
            Task {
                try? await Task.sleep(for: Self.backendExitGrace)
                reservation.release()
            }
        }
        return try await body()
    }

    /// How long a one-off connection's share of the budget stays taken after its client closed it.
    static let backendExitGrace = Duration.milliseconds(200)

    /// Asks the registries for idle pools of `server` that own their client, enough to free the
    /// given number of connections, and marks their reservations as returning.
    private func reclaimer(for server: String) -> @Sendable (Int) -> Void {
        { [weak self] shortfall in
            guard let self else { return }
            let perPool = configuration.maximumConnectionsPerTenant
            var wanted = (shortfall + perPool - 1) / perPool
            for reclaimer in reclaimers.withLock({ $0 }) where wanted > 0 {
                let closed = reclaimer.closeIdlePools(wanted) { $0.server == server && $0.reservation != nil }
                for pool in closed { pool.reservation?.markReturning() }
                wanted -= closed.count
            }
        }
    }
}
