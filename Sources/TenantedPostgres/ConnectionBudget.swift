import Synchronization
import Tenanted

/// The connections this process may hold to one PostgreSQL server, across every client the store
/// runs there: tenant pools, the shared pool, the catalog, lock and maintenance clients, short-lived
/// clients and single checks (see ``PostgresStore/Configuration/maximumConnectionsPerServer``).
///
/// Each client reserves its *maximum* size before it starts and gives it back once its connections
/// are closed, so the connections open to the server never exceed the budget, whatever the clients
/// do inside. A reservation that does not fit waits, first come first served; while it waits the
/// store asks the registry to close idle pools of other tenants (``PostgresStore/attachRegistry(_:)``),
/// every ``retryInterval``, and past the store's timeout it fails with
/// ``Tenanted/TenantedError/Code/poolLimitReached``. A waiting task that is cancelled leaves the queue.
final class ConnectionBudget: Sendable {
    /// What one waiting reservation resumes.
    typealias Waiter = CheckedContinuation<Void, any Error>

    private struct Shell {
        var state: ConnectionBudgetState<Waiter>
        var nextID: UInt64 = 0
        /// The timeout task of each queued request.
        var timers: [UInt64: Task<Void, Never>] = [:]
    }

    /// The server's name, for messages (never its URL).
    let server: String
    private let shell: Mutex<Shell>
    /// How often a waiting reservation asks the registry again for idle pools to close: pools that
    /// were leased when it arrived may have become idle since.
    static let retryInterval = Duration.milliseconds(20)

    init(server: String, limit: Int) {
        self.server = server
        self.shell = Mutex(Shell(state: ConnectionBudgetState(limit: limit)))
    }

    var limit: Int { shell.withLock { $0.state.limit } }
    /// Connections reserved now.
    var reserved: Int { shell.withLock { $0.state.reserved } }
    /// Reservations waiting now.
    var waiting: Int { shell.withLock { $0.state.queue.count } }

    /// Reserves `count` connections, waiting at most `timeout` for room.
    ///
    /// - Parameters:
    ///   - purpose: what the connections are for, in the error message ("the pool of tenant 'acme'").
    ///   - reclaim: asked (outside every lock) to close idle pools worth the given number of
    ///     connections, when the request is queued and again every ``retryInterval`` while it waits.
    /// - Throws: ``Tenanted/TenantedError/Code/poolLimitReached`` when no room came within `timeout`
    ///   or `count` exceeds the whole budget; `CancellationError` when the task was cancelled while
    ///   waiting (the request has then left the queue).
    func reserve(
        _ count: Int, for purpose: String, tenant: TenantID?, timeout: Duration,
        reclaim: @escaping @Sendable (Int) -> Void
    ) async throws {
        let id = shell.withLock { shell in
            defer { shell.nextID += 1 }
            return shell.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                let result = shell.withLock { $0.state.reserve(count, id: id, waiter: continuation) }
                switch result {
                case .granted:
                    continuation.resume()
                case .exceedsLimit:
                    continuation.resume(throwing: TenantedError(
                        .poolLimitReached,
                        "\(purpose) needs \(count) connections to PostgreSQL server '\(server)', more than its whole budget of \(limitDescription); raise maximumConnectionsPerServer or lower the pool sizes",
                        tenant: tenant
                    ))
                case .queued(let shortfall):
                    startTimer(id, purpose: purpose, tenant: tenant, timeout: timeout, reclaim: reclaim)
                    reclaim(shortfall)
                    // Cancelled before the request was queued: the handler found nothing to withdraw.
                    if Task.isCancelled { withdraw(id, with: CancellationError()) }
                }
            }
        } onCancel: {
            withdraw(id, with: CancellationError())
        }
    }

    /// A client holding `count` connections began to close; ``release(_:returning:)`` follows.
    func beginReturning(_ count: Int) {
        shell.withLock { $0.state.beginReturning(count) }
    }

    /// Gives back `count` connections whose client has closed them.
    func release(_ count: Int, returning: Bool = false) {
        let (granted, timers) = shell.withLock { shell in
            let granted = shell.state.release(count, returning: returning)
            let timers = shell.timers.filter { !shell.state.isQueued($0.key) }
            for id in timers.keys { shell.timers[id] = nil }
            return (granted, Array(timers.values))
        }
        for timer in timers { timer.cancel() }
        for waiter in granted { waiter.resume() }
    }

    /// Runs `body` holding `count` connections, given back when it returns or throws.
    func withReservation<Result>(
        _ count: Int, for purpose: String, tenant: TenantID?, timeout: Duration,
        reclaim: @escaping @Sendable (Int) -> Void,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await reserve(count, for: purpose, tenant: tenant, timeout: timeout, reclaim: reclaim)
        defer { release(count) }
        return try await body()
    }

    private var limitDescription: String { "\(limit)" }

    /// Takes request `id` out of the queue, failing it with `error`; nothing when it was granted.
    private func withdraw(_ id: UInt64, with error: any Error) {
        let (waiter, granted, timers) = shell.withLock { shell in
            let (waiter, granted) = shell.state.withdraw(id)
            let timers = shell.timers.filter { !shell.state.isQueued($0.key) }
            for id in timers.keys { shell.timers[id] = nil }
            return (waiter, granted, Array(timers.values))
        }
        for timer in timers { timer.cancel() }
        waiter?.resume(throwing: error)
        for waiter in granted { waiter.resume() }
    }

    /// Waits for request `id`, asking for room every ``retryInterval``, and fails it at `timeout`.
    private func startTimer(_ id: UInt64, purpose: String, tenant: TenantID?, timeout: Duration, reclaim: @escaping @Sendable (Int) -> Void) {
        let timer = Task { [weak self] in
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                do {
                    try await Task.sleep(for: min(Self.retryInterval, deadline - ContinuousClock.now))
                } catch {
                    return  // cancelled: the request was granted or withdrawn
                }
                guard let self else { return }
                let shortfall = self.shell.withLock { $0.state.isQueued(id) ? $0.state.shortfall : nil }
                guard let shortfall else { return }
                if shortfall > 0 { reclaim(shortfall) }
            }
            guard let self else { return }
            self.withdraw(id, with: TenantedError(
                .poolLimitReached,
                "no connection to PostgreSQL server '\(self.server)' for \(purpose) within \(timeout): all \(self.limit) connections of this process's budget are in use and no idle pool of another tenant could be closed; raise maximumConnectionsPerServer (keeping processes × budget under the server's max_connections), or shorten tenant scopes",
                tenant: tenant
            ))
        }
        shell.withLock { shell in
            // Granted or withdrawn before the timer was stored: it has nothing to wait for.
            if shell.state.isQueued(id) { shell.timers[id] = timer } else { timer.cancel() }
        }
    }
}
