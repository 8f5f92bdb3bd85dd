public import NIOPosix
import Synchronization

/// Up to `maximumConnections` connections to one database, opened on demand and reused.
///
/// ```swift
/// let pool = MariaDBConnectionPool(configuration: configuration, maximumConnections: 4)
/// let rows = try await pool.withConnection { try await $0.query("SELECT id FROM t WHERE k = ?", [.int(1)]).rows }
/// await pool.close()
/// ```
///
/// A borrower waits while all are in use. A connection that an error showed unusable is closed
/// instead of being returned.
public final class MariaDBConnectionPool: Sendable {
    /// Where connections go.
    public let configuration: MariaDBConfiguration
    /// The most connections open at once.
    public let maximumConnections: Int
    let threadPool: NIOThreadPool

    private struct State {
        var idle: [MariaDBConnection] = []
        /// Connections open or being opened, borrowed or idle.
        var open = 0
        /// Borrowers waiting: resumed with a connection, or with `nil` to open one themselves.
        var waiters: [CheckedContinuation<MariaDBConnection?, any Error>] = []
        var closed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Creates a pool; no connection opens until the first borrow.
    public init(configuration: MariaDBConfiguration, maximumConnections: Int, threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.maximumConnections = max(1, maximumConnections)
        self.threadPool = threadPool
    }

    /// How many connections are open (borrowed or idle).
    public var openConnections: Int { state.withLock { $0.open } }

    /// Runs `body` with a connection of the pool, returned afterwards.
    /// - Throws: what `body` throws; ``MariaDBError`` when no connection could be opened or the
    ///   pool is closed.
    public func withConnection<Result: Sendable>(_ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Closes the pool: borrowers waiting fail, idle connections close now, borrowed ones when they
    /// come back; returns once all are closed.
    public func close() async {
        let (idle, waiters, wait) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters, state.open > 0)
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        for connection in idle { await connection.close() }
        if wait {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state.open == 0 { return true }
                    state.closeWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    private static var closedError: MariaDBError { MariaDBError(.misuse, message: "the connection pool is closed") }

    private enum Lease {
        case ready(MariaDBConnection)
        case open
        case wait
        case closed
    }

    private func lease() async throws -> MariaDBConnection {
        let decision: Lease = state.withLock { state in
            if state.closed { return .closed }
            if let connection = state.idle.popLast() { return .ready(connection) }
            if state.open < maximumConnections {
                state.open += 1
                return .open
            }
            return .wait
        }
        switch decision {
        case .ready(let connection): return connection
        case .closed: throw Self.closedError
        case .open: return try await connect()
        case .wait:
            let handed: MariaDBConnection? = try await withCheckedThrowingContinuation { continuation in
                let closed = state.withLock { state in
                    if state.closed { return true }
                    if let connection = state.idle.popLast() {
                        continuation.resume(returning: connection)
                        return false
                    }
                    if state.open < maximumConnections {
                        state.open += 1
                        continuation.resume(returning: nil)
                        return false
                    }
                    state.waiters.append(continuation)
                    return false
                }
                if closed { continuation.resume(throwing: Self.closedError) }
            }
            if let handed { return handed }
            return try await connect()
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot back on failure.
    private func connect() async throws -> MariaDBConnection {
        do {
            return try await MariaDBConnection.connect(configuration: configuration, threadPool: threadPool)
        } catch {
            slotFreed()
            throw error
        }
    }

    private func release(_ connection: MariaDBConnection) {
        if connection.isBroken {
            Task { await connection.close() }
            slotFreed()
            return
        }
        let (waiter, closeNow): (CheckedContinuation<MariaDBConnection?, any Error>?, Bool) = state.withLock { state in
            if state.closed { return (nil, true) }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            state.idle.append(connection)
            return (nil, false)
        }
        if let waiter {
            waiter.resume(returning: connection)
        } else if closeNow {
            Task {
                await connection.close()
                self.slotFreed()
            }
        }
    }

    /// One connection fewer: a waiter may open one, or a close may finish.
    private func slotFreed() {
        let (waiter, closers): (CheckedContinuation<MariaDBConnection?, any Error>?, [CheckedContinuation<Void, Never>]) = state.withLock { state in
            if !state.closed, !state.waiters.isEmpty {
                // The slot passes to the waiter, who opens a connection in it.
                return (state.waiters.removeFirst(), [])
            }
            state.open -= 1
            if state.closed, state.open == 0 {
                defer { state.closeWaiters = [] }
                return (nil, state.closeWaiters)
            }
            return (nil, [])
        }
        waiter?.resume(returning: nil)
        for closer in closers { closer.resume() }
    }
}
