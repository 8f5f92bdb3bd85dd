public import NIOCore
public import SQLiteNIO
public import Tenanted

extension SQLitePool {
    /// Runs `body` on a connection that can be had at once, without waiting, opening one or starting
    /// a task, and takes the connection back when the future `body` returns completes (succeeded or
    /// failed): the future-based path of a query on a warm pool (Tenanted's Fluent SQLite driver
    /// uses it for every query that finds a connection idle).
    ///
    /// For reading (`forWriting: false`), the connection ``read(isolation:_:)`` would take without
    /// waiting: an idle reader, else the writer if it is idle. For writing, the writer if it is idle,
    /// entered through the same checks as ``write(isolation:_:)``: the shared lock on the tenant's
    /// ready-lock, the file's identity and the suspension marker, held until the future completes.
    ///
    /// Until the future completes the connection counts as borrowed, so ``close()`` waits for it.
    /// `body` must not use the connection after its future completes, nor write on a reading
    /// connection (a reader is `query_only`).
    ///
    /// - Returns: `nil`, without running `body`, when no such connection is idle, the pool is
    ///   closed, or (for writing) another pool of the tenant is writing: use
    ///   ``read(isolation:_:)`` or ``write(isolation:_:)`` then, which wait.
    /// - Throws: for writing, what ``write(isolation:_:)`` throws before running its body
    ///   (``Tenanted/TenantedError/Code/tenantNotFound`` for a tenant being destroyed, destroyed or
    ///   replaced, ``Tenanted/TenantedError/Code/tenantSuspended``, ``Tenanted/TenantedError/Code/storeFailure``
    ///   for a pool opened for reading only), without running `body`.
    public func withIdleConnection<Value>(
        forWriting: Bool,
        _ body: (SQLiteConnection) -> EventLoopFuture<Value>
    ) throws(TenantedError) -> EventLoopFuture<Value>? {
        if !forWriting {
            if let readers, let connection = readers.takeIdle() { return lend(connection, from: readers, body) }
            guard let connection = writer.takeIdle() else { return nil }
            return lend(connection, from: writer, body)
        }
        if refusesWrites { throw refusedWrite }
        guard let connection = writer.takeIdle() else { return nil }
        guard let writeGuard else { return lend(connection, from: writer, body) }
        // Another pool of the tenant is writing: the caller's waiting path waits for it.
        guard writeGuard.tryLockWriter() else {
            writer.giveBack(connection)
            return nil
        }
        do {
            try writeGuard.enter()
        } catch {
            writeGuard.unlockWriter()
            writer.giveBack(connection)
            throw error
        }
        let future = body(connection)
        let writer = self.writer
        future.whenComplete { _ in
            // Unlock before the writer is handed on: the next write takes the locks again.
            writeGuard.leave()
            writeGuard.unlockWriter()
            writer.giveBack(connection)
        }
        return future
    }

    private func lend<Value>(
        _ connection: SQLiteConnection,
        from lender: ConnectionLender,
        _ body: (SQLiteConnection) -> EventLoopFuture<Value>
    ) -> EventLoopFuture<Value> {
        let future = body(connection)
        future.whenComplete { _ in lender.giveBack(connection) }
        return future
    }
}
