import FluentKit
import FluentSQL
import Logging
import NIOCore
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import Tenanted
import TenantedSQLite
import TenantedFluent

/// Tenanted's Fluent driver for SQLite, over one tenant's ``TenantedSQLite/SQLitePool``.
///
/// Unlike the stock FluentSQLiteDriver it keeps the store's connection settings (WAL,
/// `synchronous=NORMAL`, a sleeping `busy_timeout`, foreign keys) and its connection budget (one
/// writer and a few `query_only` readers per tenant, not one connection per event loop). Writes
/// queue for the one writer in this process instead of colliding on `SQLITE_BUSY`; transactions
/// start with `BEGIN IMMEDIATE`, so they take the write lock up front and never fail half-way on a
/// lock upgrade.
struct SQLiteFluentDatabase: TenantBoundDatabase, SQLDatabase {
    let pool: SQLitePool
    let context: DatabaseContext
    /// The writer connection this database is pinned to inside `transaction` and `withConnection`.
    let connection: SQLiteConnection?
    let inTransaction: Bool

    var tenant: TenantID? { pool.tenant }
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { .debug }

    // MARK: Database

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        let expression = Self.sql(for: query)
        let reads: Bool
        switch query.action {
        case .read, .aggregate: reads = true
        default: reads = false
        }
        let tenant = pool.tenant, eventLoop = self.eventLoop
        // A warm pool's query: no task, rows collected and handed over on the context's event loop.
        let collected = RowCollector()
        if let running = withoutTask(reading: reads, { sql($0).execute(sql: expression) { collected.append($0) } }) {
            return running.hop(to: eventLoop).map {
                for row in collected.rows {
                    onOutput(TenantTaggedOutput(base: SQLRowOutput(row: row, schema: nil), tenant: tenant))
                }
            }
        }
        return future {
            // SQLite runs on the thread pool; Fluent wants its rows on the context's event loop. Collect
            // the rows there and hand them over in one hop (the stock driver hops once per row).
            let rows = RowCollector()
            try await self.withSQL(reading: reads) { sql in
                try await sql.execute(sql: expression) { rows.append($0) }
            }
            let collected = rows.rows
            if collected.isEmpty { return }
            try await eventLoop.submit {
                for row in collected {
                    onOutput(TenantTaggedOutput(base: SQLRowOutput(row: row, schema: nil), tenant: tenant))
                }
            }.get()
        }
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        var schema = schema
        if schema.action == .update {
            // SQLite has no enums (they are TEXT) and alters only by adding or dropping columns.
            schema.updateFields = schema.updateFields.filter {
                if case .dataType(_, .enum) = $0 { return false }
                return true
            }
            guard schema.createConstraints.isEmpty, schema.updateFields.isEmpty, schema.deleteConstraints.isEmpty else {
                return eventLoop.makeFailedFuture(TenantedError(
                    .storeFailure,
                    "SQLite can only add or drop columns in ALTER TABLE (schema '\(schema.schema)'); rebuild the table instead"
                ))
            }
            if schema.createFields.isEmpty, schema.deleteFields.isEmpty { return eventLoop.makeSucceededVoidFuture() }
        }
        let expression = SQLSchemaConverter(delegate: SQLiteFluentConverter()).convert(schema)
        let logger = self.logger
        return future {
            try await self.withSQL(reading: false) { sql in
                try await sql.execute(sql: expression) { row in
                    logger.debug("unexpected row from a schema statement: \(row)")
                }
            }
        }
    }

    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        eventLoop.makeSucceededVoidFuture()
    }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        if inTransaction { return closure(self) }
        return future {
            try await self.withWriter { connection in
                let transaction = SQLiteFluentDatabase(pool: pool, context: context, connection: connection, inTransaction: true)
                _ = try await connection.query("BEGIN IMMEDIATE")
                do {
                    let result = try await closure(transaction).unchecked()
                    _ = try await connection.query("COMMIT")
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw error
                }
            }
        }.map(\.value)
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        if connection != nil { return closure(self) }
        return future {
            try await self.withWriter { connection in
                try await closure(SQLiteFluentDatabase(pool: pool, context: context, connection: connection, inTransaction: false))
                    .unchecked()
            }
        }.map(\.value)
    }

    // MARK: SQLDatabase

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        if let running = withoutTask(reading: false, { sql($0).execute(sql: query, onRow) }) { return running.hop(to: eventLoop) }
        return future { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await withSQL(reading: false) { try await $0.execute(sql: query, onRow) }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        if connection != nil { return try await closure(self) }
        return try await withWriter { connection in
            try await closure(SQLiteFluentDatabase(pool: pool, context: context, connection: connection, inTransaction: false))
        }
    }

    // MARK: Connections

    /// Runs `body` without a task when a connection can be had at once: the pinned one, or an idle
    /// one of the kind `withSQL(reading:_:)` would take (a reader or the idle writer for a read, the
    /// writer through the pool's write guard otherwise), for sqlite-nio's future API. `nil` when no
    /// such connection is idle, or when this task holds the writer: the task path then waits, or
    /// throws the misuse error.
    ///
    /// The task path costs two or three more thread wake-ups per query (the task, the hop to the
    /// event loop for the rows, the task's completion), and a warm pool's query rarely has to wait.
    private func withoutTask(
        reading: Bool,
        _ body: (SQLiteConnection) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Void>? {
        if let connection { return body(connection) }
        let forWriting = !(reading && pool.maximumReaders > 0)
        if forWriting, WriterHold.pools.contains(ObjectIdentifier(pool)) { return nil }
        do {
            return try pool.withIdleConnection(forWriting: forWriting, body)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Runs `body` on the pinned connection, else on a reader (for reads) or the writer.
    private func withSQL<Result>(
        reading: Bool,
        _ body: (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        if let connection { return try await body(sql(connection)) }
        if reading, pool.maximumReaders > 0 { return try await pool.read { try await body(sql($0)) } }
        return try await withWriter { try await body(sql($0)) }
    }

    /// Runs `body` with the writer (the pinned one, or borrowed for the call), remembering in the task
    /// that it holds it.
    private func withWriter<Result>(_ body: (SQLiteConnection) async throws -> Result) async throws -> Result {
        if let connection { return try await body(connection) }
        let id = ObjectIdentifier(pool)
        if WriterHold.pools.contains(id) {
            // The writer is pinned by a transaction or withConnection further up this task: waiting for
            // it would wait forever.
            throw TenantedError(
                .misuse,
                "tenant '\(pool.tenant)': this task already holds the tenant's writer in a transaction or withConnection; "
                    + "use the database that closure was given, not req.db or app.db",
                tenant: pool.tenant
            )
        }
        return try await pool.write { connection in
            try await WriterHold.$pools.withValue(WriterHold.pools + [id]) { try await body(connection) }
        }
    }

    private func sql(_ connection: SQLiteConnection) -> any SQLDatabase {
        connection.logging(to: logger).sql(encoder: SQLiteDataEncoder(), decoder: SQLiteDataDecoder(), queryLogLevel: queryLogLevel)
    }

    private func future<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) -> EventLoopFuture<Value> {
        eventLoop.makeFutureWithTask(body)
    }

    /// A Fluent query as SQL; a `create` returns the new row's ID (`RETURNING`), which Fluent reads
    /// back into the model.
    private static func sql(for query: DatabaseQuery) -> any SQLExpression {
        let converted = SQLQueryConverter(delegate: SQLiteFluentConverter()).convert(query)
        // An empty custom ID key is Fluent's signal for a composite ID: nothing to return.
        guard case .create = query.action, query.customIDKey != .some(.string("")) else { return converted }
        return SQLKit.SQLList([converted, SQLReturning(SQLColumn((query.customIDKey ?? .id).description))], separator: SQLRaw(" "))
    }
}
