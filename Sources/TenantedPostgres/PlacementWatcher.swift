import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Tenanted

/// How a process learns what other processes did to its tenants: it listens on the catalog server
/// for the announcements every create, destroy and move makes (``PlacementChannel``), and
/// invalidates this process's open pools of a tenant whose generation changed.
///
/// A notification sent while nobody listened is lost, so each (re)start of listening first compares
/// every open pool's generation with the catalog. Between a lost connection and the reconnect, the
/// pools themselves catch what was missed: an error that a dropped database or schema causes makes
/// the pool ask the catalog (``PostgresStore/verify(_:)``).
final class PlacementWatcher: Sendable {
    private struct State {
        var pools: [TenantID: [ObjectIdentifier: PostgresTenantPool]] = [:]
        var task: Task<Void, Never>?
        /// Resumed once the first LISTEN is in place (or failed), so an open never misses a change
        /// made after it read the catalog.
        var startWaiters: [CheckedContinuation<Void, Never>] = []
        var started = false
        /// Non-zero while notifications are known to arrive (the probe came back on the current
        /// LISTEN connection); a new value each time listening (re)starts, 0 when not listening.
        var listeningEpoch: UInt64 = 0
        var lastEpoch: UInt64 = 0
        /// Notifications handled so far.
        var handled: UInt64 = 0
    }

    /// Where the watcher stood: see ``mark()`` and ``nothingArrived(since:)``.
    struct Mark: Equatable {
        let epoch: UInt64
        let handled: UInt64
    }

    private let state = Mutex(State())
    private let key: String
    private let logger: Logger

    init(key: String, logger: Logger) {
        self.key = key
        self.logger = logger
    }

    /// Starts listening, once; returns when the first LISTEN is in place or has failed.
    func start(_ store: PostgresStore) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.started { return true }
                state.startWaiters.append(continuation)
                if state.task == nil {
                    state.task = Task { [weak store] in
                        guard let store else { return }
                        await self.listen(store)
                    }
                }
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Stops listening and forgets every pool.
    func stop() async {
        let task = state.withLock { state in
            defer {
                state.task = nil
                state.started = false
                state.pools = [:]
                state.listeningEpoch = 0
            }
            return state.task
        }
        if let task {
            task.cancel()
            // The listening task ends when its notification stream does. A full test run stalled,
            // idle, with only this LISTEN connection open: the stream had not ended on cancellation.
            // Wait a bounded time, then go on (the connection closes with the store's clients).
            if await !Self.finishes(task, within: .seconds(5)) {
                logger.warning("the tenant-change listener did not stop within 5 seconds; leaving it to end with the catalog connection")
            }
        }
        // Whoever waits for a start goes on; a later `start` listens anew.
        resumeStartWaiters(started: false)
    }

    /// Whether `task` finishes within `limit`; `task` is never awaited longer.
    static func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        let resumed = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resume = { @Sendable (finished: Bool) in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: finished) }
            }
            Task {
                await task.value
                resume(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                resume(false)
            }
        }
    }

    /// Where the watcher stands now, or `nil` when it is not listening (reading the catalog, or
    /// between connections): taken before an open reads the catalog.
    func mark() -> Mark? {
        state.withLock { $0.listeningEpoch == 0 ? nil : Mark(epoch: $0.listeningEpoch, handled: $0.handled) }
    }

    /// Whether, since `mark`, the watcher listened all along and no notification arrived. Then an
    /// open that registered its pool after reading the catalog missed no change: one made after its
    /// read was announced after the read, and an announcement arriving before the register would
    /// have been counted here, one arriving after it finds the pool and invalidates it.
    func nothingArrived(since mark: Mark?) -> Bool {
        guard let mark else { return false }
        return state.withLock { $0.listeningEpoch == mark.epoch && $0.handled == mark.handled }
    }

    func register(_ pool: PostgresTenantPool) {
        state.withLock { $0.pools[pool.tenant, default: [:]][ObjectIdentifier(pool)] = pool }
    }

    func unregister(_ pool: PostgresTenantPool) {
        state.withLock { state in
            state.pools[pool.tenant]?[ObjectIdentifier(pool)] = nil
            if state.pools[pool.tenant]?.isEmpty == true { state.pools[pool.tenant] = nil }
        }
    }

    /// Invalidates the open pools of `tenant` whose generation is not `generation` (0: gone).
    /// Counts the notification in the same step as it reads the pools (``nothingArrived(since:)``).
    func apply(_ tenant: TenantID, generation: Int64?) {
        let pools = state.withLock { state in
            state.handled &+= 1
            return Array((state.pools[tenant] ?? [:]).values)
        }
        for pool in pools where pool.generation != generation {
            logger.info("tenant changed in another process; its pool here is stale", metadata: [
                Logger.tenantMetadataKey: "\(tenant)", "gone": "\(generation == nil)",
            ])
            pool.invalidate(gone: generation == nil)
        }
    }

    /// Handles one notification payload: `<store key> <tenant> <generation>`.
    func handle(_ payload: String) {
        let parts = payload.split(separator: " ")
        guard parts.count >= 3, parts.dropLast(2).joined(separator: " ") == key,
            let tenant = try? TenantID(String(parts[parts.count - 2])),
            let generation = Int64(parts[parts.count - 1])
        else { return }
        apply(tenant, generation: generation == 0 ? nil : generation)
    }

    private func setListening(_ listening: Bool) {
        state.withLock { state in
            if listening {
                state.lastEpoch &+= 1
                state.listeningEpoch = state.lastEpoch
            } else {
                state.listeningEpoch = 0
            }
        }
    }

    /// Called by the listening task: a task already stopped leaves the state to ``stop()``.
    private func markStarted() {
        guard !Task.isCancelled else { return }
        resumeStartWaiters(started: true)
    }

    private func resumeStartWaiters(started: Bool) {
        let waiters = state.withLock { state in
            state.started = started
            defer { state.startWaiters = [] }
            return state.startWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Thrown when a notification this process sent itself never arrived: the catalog connection
    /// goes through a transaction pooler, where `LISTEN` does not hold.
    private struct NotificationsDoNotArrive: Error {}

    /// How often the catalog is read instead, when notifications do not arrive.
    static let pollInterval = Duration.milliseconds(500)

    /// How long the watcher reads the catalog before it tries listening again, after its probe
    /// notification did not arrive: a probe can be late on a busy server, not only lost behind a
    /// pooler, and one late probe must not end listening for the life of the process.
    static let listenRetryInterval = Duration.seconds(30)

    /// Listens until cancelled, reconnecting with a growing pause (100 ms to 2 s) after a failure.
    ///
    /// Each time it listens it first checks that notifications arrive: it sends one to itself and
    /// waits up to 5 seconds. Behind a transaction pooler (PgBouncer's `pool_mode = transaction`)
    /// they do not; the watcher then reads the open pools' generations from the catalog every
    /// ``pollInterval`` instead (saying so once in the log), and tries listening again after
    /// ``listenRetryInterval``.
    private func listen(_ store: PostgresStore) async {
        var pause = Duration.milliseconds(100)
        var warnedOfPolling = false
        while !Task.isCancelled {
            do {
                try await store.ensureCatalog()
                try await store.client(.catalog).withConnection { connection in
                    guard try await Self.reachesServerDirectly(connection, port: store.catalogServer.port, logger: logger) else {
                        throw NotificationsDoNotArrive()
                    }
                    try await connection.listen(on: PlacementChannel.name) { notifications in
                        try await resynchronise(on: connection)
                        markStarted()
                        pause = .milliseconds(100)
                        try await receive(notifications, on: connection, store: store)
                    }
                }
            } catch is NotificationsDoNotArrive {
                let message: Logger.Message = "the catalog server is reached through a pooler or proxy, or its notifications do not arrive; reading tenant changes from the catalog every \(Self.pollInterval) instead"
                if warnedOfPolling { logger.debug(message) } else { logger.warning(message) }
                warnedOfPolling = true
                markStarted()
                await poll(store, for: Self.listenRetryInterval)
                continue
            } catch {
                if Task.isCancelled { break }
                logger.warning("not listening for tenant changes from other processes; retrying", metadata: [
                    "error": "\(TenantedError.postgres("listening on the catalog", nil, error))"
                ])
            }
            markStarted()
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(2))
        }
    }

    /// Whether `connection` reaches the PostgreSQL server itself: the port the server says it
    /// listens on is the one dialled. Through a pooler or a proxy (PgBouncer, a port forward) it is
    /// not — and a `LISTEN` sent there stays on a pooled server session, whose notifications then
    /// reach other clients' connections (which postgres-nio does not accept: it stops the process).
    /// So the watcher never listens there; it reads the catalog instead.
    static func reachesServerDirectly(_ connection: PostgresConnection, port: Int, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT inet_server_port()", logger: logger)
        for try await serverPort in rows.decode(Int?.self) {
            // No port: a Unix-domain socket, which is the server's own.
            return serverPort.map { $0 == port } ?? true
        }
        return false
    }

    /// Handles notifications until the connection ends, after checking that one sent to itself
    /// arrives within 5 seconds.
    ///
    /// postgres-nio's notification sequence does not end when the task iterating it is cancelled:
    /// it ends when its connection does. So giving up on the probe, and being stopped, close the
    /// connection. Before, a probe that took over its limit under load left the child task iterating
    /// for ever: the task group never finished, the LISTEN connection stayed leased, and the store's
    /// shutdown then waited for the catalog client, which waits for that connection (a full test
    /// run stalled exactly so: idle, one `LISTEN` session open).
    private func receive(_ notifications: PostgresNotificationSequence, on connection: PostgresConnection, store: PostgresStore) async throws {
        let probe = "probe " + UUID().uuidString
        let probed = ProbeFlag()
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications {
                        if notification.payload == probe {
                            probed.set()
                        } else {
                            self.handle(notification.payload)
                        }
                    }
                }
                try await store.client(.catalog).query("SELECT pg_notify(\(PlacementChannel.name), \(probe))", logger: logger)
                let deadline = ContinuousClock.now + .seconds(5)
                while !probed.isSet, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                guard probed.isSet else {
                    group.cancelAll()
                    let _: EventLoopFuture<Void> = connection.close()
                    throw NotificationsDoNotArrive()
                }
                setListening(true)
                defer { setListening(false) }
                try await group.next()
            }
        } onCancel: {
            let _: EventLoopFuture<Void> = connection.close()
        }
    }

    /// Reads the open pools' generations from the catalog every ``pollInterval`` for `span`, or
    /// until cancelled.
    private func poll(_ store: PostgresStore, for span: Duration) async {
        let end = ContinuousClock.now + span
        while !Task.isCancelled, ContinuousClock.now < end {
            do {
                try await store.client(.catalog).withConnection { try await resynchronise(on: $0) }
            } catch {
                if Task.isCancelled { return }
                logger.warning("could not read tenant changes from the catalog; retrying", metadata: [
                    "error": "\(TenantedError.postgres("reading the placement catalog", nil, error))"
                ])
            }
            try? await Task.sleep(for: Self.pollInterval)
        }
    }


    /// Compares every open pool's generation with the catalog: catches changes announced while
    /// this process was not listening.
    private func resynchronise(on connection: PostgresConnection) async throws {
        let tenants = state.withLock { Array($0.pools.keys) }
        guard !tenants.isEmpty else { return }
        let generations = try await CatalogSession(connection: connection, key: key, logger: logger).generations(of: tenants)
        for tenant in tenants {
            apply(tenant, generation: generations[tenant])
        }
    }
}

/// Set once the watcher's own probe notification arrived.
private final class ProbeFlag: Sendable {
    private let seen = Mutex(false)

    func set() { seen.withLock { $0 = true } }

    var isSet: Bool { seen.withLock { $0 } }
}
