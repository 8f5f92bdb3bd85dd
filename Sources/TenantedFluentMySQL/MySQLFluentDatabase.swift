import FluentKit
import FluentSQL
import Logging
import MariaDBClient
import NIOCore
import SQLKit
import Synchronization
import Tenanted
import TenantedFluent
import TenantedMySQL

/// Tenanted's Fluent driver for MySQL and MariaDB, over one tenant's ``TenantedMySQL/MySQLTenantPool``:
/// FluentSQL's converters, the ``MySQLDialect``, and the MariaDB client's prepared statements.
///
/// **Transactions and DDL.** MySQL commits DDL implicitly. A transaction here runs with
/// `autocommit = 0`, so rows written after a `CREATE TABLE` still roll back, and a rollback drops the
/// tables the transaction created (a migration batch that fails leaves no half-created table).
/// Other DDL — `ALTER`, `DROP` — cannot be undone by a rollback.
struct MySQLFluentDatabase: TenantBoundDatabase, SQLDatabase {
    let pool: MySQLTenantPool
    let context: DatabaseContext
    /// The connection this database is pinned to inside `transaction`, `withConnection`, `withSession`.
    let connection: MariaDBConnection?
    /// The open transaction's bookkeeping; `nil` outside a transaction.
    let transactionState: TransactionState?

    var tenant: TenantID? { pool.tenant }
    var inTransaction: Bool { transactionState != nil }
    var dialect: any SQLDialect { MySQLDialect() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var queryLogLevel: Logger.Level? { .debug }

    // MARK: Database

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        let expression = SQLQueryConverter(delegate: MySQLFluentConverter()).convert(query)
        var createdIDKey: FieldKey?
        // An empty custom ID key is Fluent's signal for a composite ID: nothing to return.
        if case .create = query.action, query.customIDKey != .some(.string("")) { createdIDKey = query.customIDKey ?? .id }
        let idKey = createdIDKey
        let tenant = pool.tenant, eventLoop = self.eventLoop
        return future {
            let result = try await self.run(expression)
            var collected: [any DatabaseOutput] = result.rows.map { SQLRowOutput(row: MySQLRow(row: $0), schema: nil) }
            if let idKey, result.lastInsertID > 0 {
                // No RETURNING in MySQL: the new row's AUTO_INCREMENT ID, which Fluent reads back.
                collected.append(LastInsertIDOutput(key: idKey, id: result.lastInsertID))
            }
            let outputs = collected
            if outputs.isEmpty { return }
            // Fluent wants its rows on the context's event loop: one hop for all of them.
            try await eventLoop.submit {
                for output in outputs { onOutput(TenantTaggedOutput(base: output, tenant: tenant)) }
            }.get()
        }
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        let expression = SQLSchemaConverter(delegate: MySQLFluentConverter()).convert(schema)
        var creates: String?
        if case .create = schema.action, transactionState != nil { creates = schema.schema }
        let candidate = creates, mayExist = !schema.exclusiveCreate
        return future {
            // A rollback drops what this transaction created, never a table that was there before.
            var created = candidate
            if let name = created, mayExist, try await self.tableExists(name) { created = nil }
            _ = try await self.run(expression)
            if let created { self.transactionState?.created(created) }
        }
    }

    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        // MySQL's enums are inline in their columns.
        eventLoop.makeSucceededVoidFuture()
    }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        if inTransaction { return closure(self) }
        return future {
            try await self.withPinned { database in
                try await database.runTransaction { try await closure($0).unchecked() }
            }
        }.map(\.value)
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        if connection != nil { return closure(self) }
        return future {
            try await self.withPinned { try await closure($0).unchecked() }
        }.map(\.value)
    }

    // MARK: SQLDatabase

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        future { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        for row in try await run(query).rows { onRow(MySQLRow(row: row)) }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        if connection != nil { return try await closure(self) }
        // The result only travels from the closure back to its caller.
        return try await withPinned { SessionResult(value: try await closure($0)) }.value
    }

    // MARK: Running

    private func tableExists(_ table: String) async throws -> Bool {
        try await !run(SQLQueryString(
            "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = \(bind: table)"
        )).rows.isEmpty
    }

    /// Serialises `expression` (values as bound parameters) and runs it on the pinned connection or a
    /// borrowed one.
    func run(_ expression: any SQLExpression) async throws -> MariaDBResult {
        var serializer = SQLSerializer(database: self)
        expression.serialize(to: &serializer)
        let sql = serializer.sql
        let binds = try serializer.binds.map { try MySQLValueEncoder.encode($0) }
        if let level = queryLogLevel { logger.log(level: level, "\(sql)", metadata: ["binds": "\(binds.count)"]) }
        if let connection {
            do {
                return try await connection.query(sql, binds)
            } catch {
                throw await pool.translate(error)
            }
        }
        return try await pool.withConnection { try await $0.query(sql, binds) }
    }

    /// Runs `body` with a database pinned to one connection of the pool.
    private func withPinned<Result: Sendable>(_ body: (MySQLFluentDatabase) async throws -> Result) async throws -> Result {
        try await pool.withConnection { connection in
            try await body(MySQLFluentDatabase(pool: pool, context: context, connection: connection, transactionState: nil))
        }
    }

    /// Runs `body` in a transaction on this (pinned) database's connection: `autocommit = 0`, so a
    /// rollback also undoes rows written after an implicitly committed DDL statement; on rollback the
    /// tables created in the transaction are dropped.
    private func runTransaction<Result: Sendable>(_ body: (MySQLFluentDatabase) async throws -> Result) async throws -> Result {
        guard let connection else { preconditionFailure("a transaction needs a pinned connection") }
        let state = TransactionState()
        let database = MySQLFluentDatabase(pool: pool, context: context, connection: connection, transactionState: state)
        do {
            try await connection.query("SET autocommit = 0")
        } catch {
            throw await pool.translate(error)
        }
        let result: Result
        do {
            result = try await body(database)
            try await connection.query("COMMIT")
        } catch {
            await rollBack(connection, state)
            throw await pool.translate(error)
        }
        await finish(connection, state)
        return result
    }

    private func rollBack(_ connection: MariaDBConnection, _ state: TransactionState) async {
        do {
            try await connection.query("ROLLBACK")
            for table in state.createdTables.reversed() {
                try await connection.query("DROP TABLE IF EXISTS \(MySQLFluentDatabase.quoted(table))")
            }
        } catch {
            logger.warning("could not roll a transaction back completely; its connection is closed", metadata: ["error": "\(String(reflecting: error))"])
            await connection.close()
            return
        }
        await finish(connection, state)
    }

    /// Back to autocommit, and the migration lock released; a connection that cannot be reset is closed.
    private func finish(_ connection: MariaDBConnection, _ state: TransactionState) async {
        do {
            try await connection.query("SET autocommit = 1")
            if state.locked { try await connection.query("DO RELEASE_ALL_LOCKS()") }
        } catch {
            await connection.close()
        }
    }

    static func quoted(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    private func future<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) -> EventLoopFuture<Value> {
        eventLoop.makeFutureWithTask(body)
    }
}

private struct SessionResult<Value>: @unchecked Sendable {
    let value: Value
}

/// What one transaction did that a rollback must undo or its end release.
final class TransactionState: Sendable {
    private let state = Mutex<(created: [String], locked: Bool)>(([], false))

    func created(_ table: String) { state.withLock { $0.created.append(table) } }

    var createdTables: [String] { state.withLock { $0.created } }

    func lockTaken() { state.withLock { $0.locked = true } }

    var locked: Bool { state.withLock { $0.locked } }
}

/// The AUTO_INCREMENT ID of a created row, as a Fluent output holding only the ID.
struct LastInsertIDOutput: DatabaseOutput {
    let key: FieldKey
    let id: UInt64

    var description: String { "last insert ID \(id)" }

    func schema(_ schema: String) -> any DatabaseOutput { self }

    func contains(_ key: FieldKey) -> Bool { key == self.key }

    func decodeNil(_ key: FieldKey) throws -> Bool { false }

    func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
        guard key == self.key else { throw MySQLDecodingError.missingColumn(key.description) }
        let value: MariaDBValue = id <= UInt64(Int64.max) ? .int(Int64(id)) : .uint(id)
        return try MySQLValueDecoder.decode(T.self, from: value, column: key.description)
    }
}
