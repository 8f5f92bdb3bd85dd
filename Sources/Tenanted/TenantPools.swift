public import Logging
public import CoreMetrics
import Metrics
public import ServiceLifecycle
import Synchronization

/// The registry of open tenant pools: tenant → pool, capped, least recently used evicted first.
///
/// - **Single-flight open.** Any number of concurrent first uses of a tenant open exactly one pool.
/// - **Leases.** A pool is lent through a ``TenantLease``; a pool with a lease is never evicted or
///   closed, so no query ever loses its pool underneath it.
/// - **Capped.** At most ``Configuration/maximumOpenPools`` pools stay open. When a new tenant needs
///   a pool, the least recently used *idle* pool is evicted. When every pool is leased, the registry
///   overflows temporarily (logged, and reported to the delegate) up to
///   ``Configuration/maximumOverflow`` extra pools, and shrinks back as leases end. Past that hard
///   limit a request waits for a free slot for at most ``Configuration/overflowTimeout`` and then
///   fails with ``TenantedError/Code/poolLimitReached`` — it never blocks forever.
/// - **Asynchronous close.** Evicted pools are closed in their own task, outside every lock.
/// - **Idle timeout.** With ``Configuration/idleTimeout`` set, ``run()`` closes pools unused for
///   that long.
///
/// It is a ServiceLifecycle `Service`: add it (or the ``Tenancy`` that owns it) to your
/// `ServiceGroup`; on graceful shutdown it waits for leases to end and closes every pool. Without a
/// service group, call ``shutdown()`` yourself.
public final class TenantPools<Pool: Sendable>: Service, Sendable {
    /// How the registry sizes itself.
    public struct Configuration: Sendable {
        /// Pools kept open when nothing is leased. Default: 50.
        public var maximumOpenPools: Int
        /// Extra pools allowed while every open pool is leased. Default: 50.
        public var maximumOverflow: Int
        /// How long a request waits for a free slot past the overflow. Default: 30 seconds.
        public var overflowTimeout: Duration
        /// Close pools unused for this long (checked by ``TenantPools/run()``). Default: `nil` (never).
        public var idleTimeout: Duration?

        /// Creates a configuration; every parameter has the default documented on its property.
        public init(
            maximumOpenPools: Int = 50,
            maximumOverflow: Int = 50,
            overflowTimeout: Duration = .seconds(30),
            idleTimeout: Duration? = nil
        ) {
            self.maximumOpenPools = maximumOpenPools
            self.maximumOverflow = maximumOverflow
            self.overflowTimeout = overflowTimeout
            self.idleTimeout = idleTimeout
        }

        /// Throws ``TenantedError/Code/invalidConfiguration`` for a value out of range.
        public func validate() throws(TenantedError) {
            if maximumOpenPools < 1 {
                throw TenantedError(.invalidConfiguration, "maximumOpenPools must be at least 1, got \(maximumOpenPools)")
            }
            if maximumOverflow < 0 {
                throw TenantedError(.invalidConfiguration, "maximumOverflow must be 0 or more, got \(maximumOverflow)")
            }
            if overflowTimeout <= .zero {
                throw TenantedError(.invalidConfiguration, "overflowTimeout must be positive")
            }
            if let idleTimeout, idleTimeout <= .zero {
                throw TenantedError(.invalidConfiguration, "idleTimeout must be positive when set")
            }
        }
    }

    /// A task waiting for a lease: resumed with the pool, its entry id, and whether the pool was
    /// opened for it.
    struct LeaseRequest {
        let id: UInt64
        let continuation: CheckedContinuation<(Pool, UInt64, fresh: Bool), any Error>
    }

    typealias State = TenantPoolsState<Pool, LeaseRequest, CheckedContinuation<Void, Never>>

    /// The registry's background work — pool opens and closes, admission timeouts — each in a task
    /// the registry keeps until it ends, so ``shutdown()`` can end or await every one of them.
    private struct Background {
        var nextID = 0
        /// Opens in progress; cancelled by ``shutdown()``.
        var opens: [Int: Task<Void, Never>] = [:]
        /// Closes in progress; awaited by ``closing(_:isolation:_:)`` and ``shutdown()``.
        var closes: [Int: Task<Void, Never>] = [:]
        /// The timeout of each queued admission, by admission id; cancelled once it leaves the queue.
        var timers: [UInt64: Task<Void, Never>] = [:]
    }

    /// The configuration in force.
    public let configuration: Configuration
    private let state: Mutex<State>
    private let opener: @Sendable (TenantID) async throws -> Pool
    private let closer: @Sendable (Pool) async -> Void
    private let isCurrent: @Sendable (Pool) -> Bool
    private let delegate: any TenancyDelegate
    private let logger: Logger
    private let background = Mutex(Background())
    /// The id of the last lease request made to wait.
    private let lastRequestID = Atomic<UInt64>(0)
    private let metrics: PoolMetrics

    /// Creates a registry.
    ///
    /// - Parameters:
    ///   - configuration: sizes and timeouts.
    ///   - delegate: told about opened, evicted and overflowed pools.
    ///   - logger: where overflow warnings and close failures go.
    ///   - open: opens a tenant's pool (the store's `open`, plus checks such as pending migrations).
    ///   - close: closes a pool; never called while the pool is leased.
    ///   - isCurrent: whether an open pool still serves its tenant as the store holds it now (see
    ///     ``TenantStore/isCurrent(_:)``). Checked on every lease of an open pool, so it must be cheap;
    ///     a pool found stale leaves the registry at once and a fresh one is opened. Default: always.
    ///   - metricsFactory: where the registry's metrics go. Default: the bootstrapped `MetricsSystem`.
    public init(
        configuration: Configuration = .init(),
        delegate: any TenancyDelegate = NoTenancyDelegate(),
        logger: Logger = Logger(label: "tenanted.pools"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        open: @escaping @Sendable (TenantID) async throws -> Pool,
        close: @escaping @Sendable (Pool) async -> Void,
        isCurrent: @escaping @Sendable (Pool) -> Bool = { _ in true }
    ) throws(TenantedError) {
        try configuration.validate()
        self.configuration = configuration
        self.state = Mutex(State(capacity: configuration.maximumOpenPools, overflow: configuration.maximumOverflow))
        self.opener = open
        self.closer = close
        self.isCurrent = isCurrent
        self.delegate = delegate
        self.logger = logger
        self.metrics = PoolMetrics(factory: metricsFactory)
    }

    /// Tenants with an open (or opening) pool, least recently used first.
    public var openTenants: [TenantID] { state.withLock { $0.tenantsByRecency } }

    /// The number of open (or opening) pools.
    public var openCount: Int { state.withLock { $0.entries.count } }

    /// A consistent picture of the registry now: pools by state, the capacity, and what happened since
    /// it was made. It describes this process only: every process has its own registry.
    public var snapshot: TenantPoolsSnapshot { state.withLock { $0.snapshot } }

    /// The state of `tenant`'s pool in this process's registry.
    public func poolState(of tenant: TenantID) -> TenantPoolState { state.withLock { $0.poolState(of: tenant) } }

    /// Admission timeouts running now: one per lease request queued at the hard limit, none once it
    /// is served, fails or is cancelled.
    var liveTimerCount: Int { background.withLock { $0.timers.count } }

    /// Background tasks (opens, closes, timers) running now; none after ``shutdown()``.
    var liveTaskCount: Int { background.withLock { $0.opens.count + $0.closes.count + $0.timers.count } }

    /// Leases `tenant`'s pool, opening it if needed; the caller releases the lease. Leases are lent
    /// through closures everywhere public: ``withPool(_:isolation:_:)`` and
    /// ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``.
    func lease(_ tenant: TenantID) async throws -> TenantLease {
        try await leasePool(tenant).lease
    }

    /// Runs `body` with `tenant`'s pool, leased for the duration of the call.
    public func withPool<Result>(
        _ tenant: TenantID,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Pool) async throws -> Result
    ) async throws -> Result {
        let (lease, pool) = try await leasePool(tenant)
        defer { lease.release() }
        return try await body(pool)
    }

    private func leasePool(_ tenant: TenantID) async throws -> (lease: TenantLease, pool: Pool) {
        // A pool found stale (another process destroyed, re-created or moved the tenant) is retired
        // and the lease asked again, which opens a fresh pool — or fails, for a tenant that is gone.
        // A pool opened for this very request is not checked: its open checked the tenant within
        // this same use (a destroy racing that open is a destroy racing the use, and the pool's
        // writes stay guarded by the store). A pool found open and stale again on the second
        // attempt means the tenant is changing under us; the third one is used as it is.
        var attempt = 0
        while true {
            attempt += 1
            let pool: Pool
            let id: UInt64
            var fresh = false
            if let open = state.withLock({ $0.leaseIfOpen(tenant) }) {
                (pool, id) = open
            } else {
                (pool, id, fresh) = try await waitForLease(tenant)
            }
            if attempt < 3, !fresh, !isCurrent(pool) {
                logger.info("closing a stale tenant pool: the tenant changed since it opened", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
                handle { $0.retire(tenant, id: id) }
                release(tenant, id: id)
                continue
            }
            let lease = TenantLease(tenant: tenant, pool: pool, owner: ObjectIdentifier(self)) { [weak self] in
                self?.release(tenant, id: id)
            }
            return (lease, pool)
        }
    }

    /// Waits for `tenant`'s pool to open or for a free slot. Cancelling the task stops the wait at
    /// once with `CancellationError`: the request leaves the queue, and no pool opens for it.
    private func waitForLease(_ tenant: TenantID) async throws -> (Pool, UInt64, fresh: Bool) {
        let requestID = lastRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                handle { $0.lease(tenant, waiter: LeaseRequest(id: requestID, continuation: continuation)) }
                // Cancelled before the request was queued: the handler found nothing to cancel.
                if Task.isCancelled { cancelWaiting(tenant, requestID) }
            }
        } onCancel: {
            cancelWaiting(tenant, requestID)
        }
    }

    private func cancelWaiting(_ tenant: TenantID, _ requestID: UInt64) {
        guard let (request, admission) = state.withLock({ $0.cancelWaiter(tenant) { $0.id == requestID } }) else { return }
        if let admission { cancelTimers([admission]) }
        request.continuation.resume(throwing: CancellationError())
    }

    /// The pool of a lease this registry made and that is still held; `nil` for a lease of another
    /// registry or one already released (its pool may have been evicted since).
    public func pool(of lease: TenantLease) -> Pool? {
        guard lease.owner == ObjectIdentifier(self), !lease.isReleased else { return nil }
        return lease.pool as? Pool
    }

    /// Blocks new leases on `tenant`, waits until its current leases end, closes its pool, runs
    /// `body` (for example, deleting the tenant's files), and lifts the block.
    ///
    /// Lease requests for `tenant` made meanwhile fail with ``TenantedError/Code/tenantNotFound``.
    public func closing<Result>(
        _ tenant: TenantID,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        await withCheckedContinuation { continuation in
            handle { $0.drain(tenant, waiter: continuation) }
        }
        await waitForCloses()
        defer { handle { $0.unblock(tenant) } }
        return try await body()
    }

    /// Runs `body` — work on `tenant` that does not lease its pool, such as a migration on a pool of
    /// its own — so that ``closing(_:isolation:_:)`` (a destroy) waits for it to end, and it does not
    /// start while the tenant is being destroyed.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` while the tenant is being destroyed,
    ///   ``TenantedError/Code/shutdown`` after shutdown, or what `body` throws.
    public func withOperation<Result>(
        on tenant: TenantID,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        if let error = state.withLock({ $0.beginOperation(tenant) }) { throw error }
        defer { handle { $0.endOperation(tenant) } }
        return try await body()
    }

    /// Closes pools idle since longer than `timeout` ago. ``run()`` calls it periodically.
    public func closeIdle(olderThan timeout: Duration) {
        let deadline = ContinuousClock.now - timeout
        handle { $0.closeIdle(unusedSince: deadline) }
    }

    /// Closes up to `count` idle pools for which `predicate` holds, least recently used first, and
    /// returns them; the closes run in the background. Leased pools, pools still opening and
    /// pools of a tenant with an operation running are left alone. A store asks for this through
    /// the ``TenantPoolReclaimer`` its ``Tenancy`` attached; `predicate` runs under the registry's
    /// lock.
    @discardableResult
    public func closeIdlePools(_ count: Int, where predicate: @escaping @Sendable (Pool) -> Bool) -> [Pool] {
        var closed: [Pool] = []
        let actions = state.withLock { state -> State.Actions in
            let outcome = state.closeIdle(count: count, matching: predicate)
            closed = outcome.closed
            return outcome.actions
        }
        perform(actions)
        return closed
    }

    /// Stops lending, waits for every lease to end and closes every pool. Opens in progress are
    /// cancelled (a pool that opens anyway is closed), queued lease requests fail with
    /// ``TenantedError/Code/shutdown``, and every background task has ended when this returns.
    public func shutdown() async {
        let opens = background.withLock { Array($0.opens.values) }
        for open in opens { open.cancel() }
        await withCheckedContinuation { continuation in
            handle { $0.shutdown(waiter: continuation) }
        }
        while let open = background.withLock({ $0.opens.values.first }) {
            await open.value
        }
        await waitForCloses()
        let timers = background.withLock { background in
            defer { background.timers = [:] }
            return Array(background.timers.values)
        }
        for timer in timers {
            timer.cancel()
            await timer.value
        }
    }

    /// Runs the idle sweeper (when ``Configuration/idleTimeout`` is set) until graceful shutdown,
    /// then shuts the registry down.
    public func run() async throws {
        if let idleTimeout = configuration.idleTimeout {
            let interval = min(idleTimeout / 2, .seconds(30))
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    self.closeIdle(olderThan: idleTimeout)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        await shutdown()
    }

    // MARK: The shell

    private func release(_ tenant: TenantID, id: UInt64) {
        let now = ContinuousClock.now
        let (actions, openCount) = state.withLock { state -> (State.Actions?, Int) in
            if state.releaseWithoutActions(tenant, now: now, id: id) { return (nil, 0) }
            return (state.release(tenant, now: now, id: id), state.entries.count)
        }
        if let actions { perform(actions, openCount: openCount) }
    }

    /// Applies `event` to the state under the lock, then performs its actions outside it.
    private func handle(_ event: @Sendable (inout State) -> State.Actions) {
        let (actions, openCount) = state.withLock { state in
            let actions = event(&state)
            return (actions, state.entries.count)
        }
        perform(actions, openCount: openCount)
    }

    /// Performs the actions of one event, outside the lock. `openCount`: the pools open or opening
    /// after the event, when the caller read it under the same lock (else it is read again).
    private func perform(_ actions: State.Actions, openCount: Int? = nil) {
        for (tenant, pool, reason) in actions.close {
            startClosing(tenant, pool, reason: reason)
        }
        for (waiter, error) in actions.fail { waiter.continuation.resume(throwing: error) }
        for (waiter, pool, id, fresh) in actions.succeed { waiter.continuation.resume(returning: (pool, id, fresh)) }
        for tenant in actions.open { startOpening(tenant) }
        for waiter in actions.resume { waiter.resume() }
        cancelTimers(actions.dequeued)
        for id in actions.queued { startAdmissionTimer(id) }
        if let count = actions.overflow {
            logger.warning(
                "tenant pools overflow: every pool is leased",
                metadata: ["open": "\(count)", "maximumOpenPools": "\(configuration.maximumOpenPools)"]
            )
            metrics.overflows.increment()
            delegate.poolsOverflowed(openCount: count, capacity: configuration.maximumOpenPools)
        }
        if !actions.open.isEmpty || !actions.close.isEmpty {
            metrics.open.record(openCount ?? self.openCount)
        }
    }

    private func startOpening(_ tenant: TenantID) {
        background.withLock { background in
            let id = background.nextID
            background.nextID += 1
            background.opens[id] = Task {
                do {
                    let pool = try await opener(tenant)
                    metrics.opened.increment()
                    delegate.poolOpened(tenant)
                    handle { $0.openSucceeded(tenant, pool: pool) }
                } catch {
                    let failure = (error as? TenantedError)
                        ?? (error is CancellationError
                            ? TenantedError(.shutdown, "the tenant pools were shut down while the pool of tenant '\(tenant)' opened", tenant: tenant)
                            : TenantedError(.storeFailure, "could not open the pool of tenant '\(tenant)'", tenant: tenant, underlying: error))
                    handle { $0.openFailed(tenant, error: failure) }
                }
                _ = self.background.withLock { $0.opens.removeValue(forKey: id) }
            }
        }
    }

    private func startClosing(_ tenant: TenantID, _ pool: Pool, reason: PoolCloseReason) {
        if reason == .evicted { metrics.evicted.increment() }
        delegate.poolClosed(tenant, reason: reason)
        background.withLock { background in
            let id = background.nextID
            background.nextID += 1
            background.closes[id] = Task {
                await closer(pool)
                _ = self.background.withLock { $0.closes.removeValue(forKey: id) }
            }
        }
    }

    private func waitForCloses() async {
        while let task = background.withLock({ $0.closes.values.first }) {
            await task.value
        }
    }

    private func startAdmissionTimer(_ id: UInt64) {
        let timeout = configuration.overflowTimeout
        background.withLock { background in
            background.timers[id] = Task { [weak self] in
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return  // cancelled: the request left the queue, or the registry shut down
                }
                guard let self else { return }
                _ = self.background.withLock { $0.timers.removeValue(forKey: id) }
                handle { $0.admissionTimedOut(id) }
            }
        }
    }

    private func cancelTimers(_ ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        let timers = background.withLock { background in ids.compactMap { background.timers.removeValue(forKey: $0) } }
        for timer in timers { timer.cancel() }
    }

}

/// The registry's metrics. Dimensions are bounded: no tenant id is ever a label.
private struct PoolMetrics: Sendable {
    let opened: Counter
    let evicted: Counter
    let overflows: Counter
    let open: Gauge

    init(factory: any MetricsFactory) {
        opened = Counter(label: "tenanted_pools_opened_total", factory: factory)
        evicted = Counter(label: "tenanted_pools_evicted_total", factory: factory)
        overflows = Counter(label: "tenanted_pools_overflow_total", factory: factory)
        open = Gauge(label: "tenanted_pools_open", factory: factory)
    }
}
