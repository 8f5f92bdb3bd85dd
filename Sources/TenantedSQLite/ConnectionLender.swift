import DequeModule
import Logging
import SQLiteNIO
import Synchronization
import Tenanted

/// Lends up to `limit` SQLite connections, opened lazily, one borrower per connection at a time.
///
/// ``close()`` refuses new borrowers, closes idle connections at once and borrowed ones when they
/// come back, and returns when every connection is closed: a running query is never cut off.
final class ConnectionLender: Sendable {
    /// `nil` hands the waiter a reserved slot to open a new connection in.
    typealias Waiter = CheckedContinuation<SQLiteConnection?, any Error>

    private struct State {
        var idle: [SQLiteConnection] = []
        var count = 0
        var waiters: Deque<Waiter> = []
        var isClosed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Decision {
        case use(SQLiteConnection)
        case open
        case wait
        case fail(TenantedError)
    }

    private let state = Mutex(State())
    private let limit: Int
    private let tenant: TenantID
    private let connect: @Sendable () async throws -> SQLiteConnection

    init(limit: Int, tenant: TenantID, connect: @escaping @Sendable () async throws -> SQLiteConnection) {
        self.limit = limit
        self.tenant = tenant
        self.connect = connect
    }

    /// Runs `body` with a borrowed connection.
    func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await borrow()
        defer { giveBack(connection) }
        return try await body(connection)
    }

    /// Runs `body` with an open connection nobody is using, if there is one; never opens or waits.
    /// Returns `nil` (without running `body`) when there is none.
    func withIdleConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result? {
        guard let connection = takeIdle() else { return nil }
        defer { giveBack(connection) }
        return try await body(connection)
    }

    /// Takes an open connection nobody is using, if there is one, without waiting or opening one;
    /// `nil` when there is none or the lender is closed. The caller must ``giveBack(_:)`` it: until
    /// then it counts as borrowed, so ``close()`` waits for it.
    func takeIdle() -> SQLiteConnection? {
        state.withLock { state -> SQLiteConnection? in
            state.isClosed ? nil : state.idle.popLast()
        }
    }

    private func borrow() async throws -> SQLiteConnection {
        switch state.withLock({ decide(&$0) }) {
        case .use(let connection): return connection
        case .fail(let error): throw error
        case .open: return try await openReserved()
        case .wait:
            let handed: SQLiteConnection? = try await withCheckedThrowingContinuation { waiter in
                switch state.withLock({ state -> Decision in
                    let decision = decide(&state)
                    if case .wait = decision { state.waiters.append(waiter) }
                    return decision
                }) {
                case .use(let connection): waiter.resume(returning: connection)
                case .open: waiter.resume(returning: nil)
                case .fail(let error): waiter.resume(throwing: error)
                case .wait: break
                }
            }
            if let handed { return handed }
            return try await openReserved()
        }
    }

    private func decide(_ state: inout State) -> Decision {
        if state.isClosed { return .fail(closedError) }
        if let connection = state.idle.popLast() { return .use(connection) }
        if state.count < limit {
            state.count += 1
            return .open
        }
        return .wait
    }

    private var closedError: TenantedError {
        TenantedError(.shutdown, "the pool of tenant '\(tenant)' is closed", tenant: tenant)
    }

    /// Opens a connection in a slot already counted; gives the slot back on failure.
    private func openReserved() async throws -> SQLiteConnection {
        do {
            return try await connect()
        } catch {
            let next = state.withLock { state -> Waiter? in
                state.count -= 1
                guard !state.isClosed, let waiter = state.waiters.popFirst() else { return nil }
                state.count += 1
                return waiter
            }
            next?.resume(returning: nil)
            finishCloseIfDone()
            throw error
        }
    }

    /// Returns a borrowed connection: to the next waiter, else to the idle ones, else (the lender
    /// is closed) closes it.
    func giveBack(_ connection: SQLiteConnection) {
        enum Next { case hand(Waiter), close, keep }
        let next = state.withLock { state -> Next in
            if let waiter = state.waiters.popFirst() { return .hand(waiter) }
            if state.isClosed { return .close }
            state.idle.append(connection)
            return .keep
        }
        switch next {
        case .hand(let waiter): waiter.resume(returning: connection)
        case .keep: break
        case .close:
            Task {
                await connection.closeEvenIfCancelled()
                // Count the slot free only once the connection is really closed, so close() cannot
                // return (and the file be renamed or deleted) under an open connection.
                state.withLock { $0.count -= 1 }
                finishCloseIfDone()
            }
        }
    }

    private func finishCloseIfDone() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.isClosed, state.count == 0 else { return [] }
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Closes every connection, waiting for borrowed ones to come back first.
    func close() async {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, Array(state.waiters))
        }
        for waiter in waiters { waiter.resume(throwing: closedError) }
        for connection in idle { await connection.closeEvenIfCancelled() }
        state.withLock { $0.count -= idle.count }
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.count == 0 { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

extension SQLiteConnection {
    /// Closes the connection even when the calling task is cancelled.
    ///
    /// sqlite-nio closes on its thread pool through `runIfActive`, which throws for a cancelled task
    /// *without closing*, and a connection deallocated unclosed traps. A pool closed from a cancelled
    /// task (a sibling `async let` failed, a request was abandoned) must still close every connection,
    /// so the close runs in a task of its own, which does not inherit the cancellation.
    ///
    /// An uncancelled task closes directly (no task of its own to start: an evicted pool's close
    /// costs one hop to the thread pool, as a raw connection's does); only when that fails without
    /// closing (the task was cancelled meanwhile) does the close go to a task of its own.
    func closeEvenIfCancelled() async {
        if !Task.isCancelled {
            do {
                try await close()
                return
            } catch {
                if isClosed { return }
            }
        }
        await Task { try? await self.close() }.value
    }
}
