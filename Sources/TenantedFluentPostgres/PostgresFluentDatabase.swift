import FluentKit
import Logging
import NIOCore
import PostgresKit
import SQLKit
import Tenanted
import TenantedFluent
import TenantedPostgres

/// A tenant's Fluent database on PostgreSQL: the stock driver's database, whose rows are tagged with
/// the tenant (``TenantedFluent/TenantOrigin``) and which, over a shared pool, puts every operation
/// in a transaction that first sets `search_path` for that transaction only.
struct PostgresFluentDatabase: TenantBoundDatabase, SQLDatabase {
    let base: any Database
    let pool: PostgresTenantPool
    /// Whether `base` is already inside a transaction whose `search_path` is this tenant's.
    let scoped: Bool
    /// Whether `base` is the pool's own database (each operation leases a connection), not one bound
    /// to a connection or a transaction: then raw SQL can lease from ``pool`` itself.
    var leasesFromPool = false

    var tenant: TenantID? { pool.tenant }
    var context: DatabaseContext { base.context }
    var inTransaction: Bool { base.inTransaction }
    var dialect: any SQLDialect { PostgresDialect() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var queryLogLevel: Logger.Level? { (base as? any SQLDatabase)?.queryLogLevel ?? .debug }

    private var needsScope: Bool { pool.setsLocalSearchPath && !scoped }

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        let tenant = pool.tenant
        return translating { scopedBase { $0.execute(query: query) { onOutput(TenantTaggedOutput(base: $0, tenant: tenant)) } } }
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        translating { scopedBase { $0.execute(schema: schema) } }
    }

    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        translating { scopedBase { $0.execute(enum: `enum`) } }
    }

    func transaction<T: Sendable>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let pool = self.pool
        if needsScope {
            return translating {
                base.transaction { transaction in
                    Self.setLocalSearchPath(on: transaction, pool: pool).flatMap {
                        closure(PostgresFluentDatabase(base: transaction, pool: pool, scoped: true))
                    }
                }
            }
        }
        let scoped = self.scoped
        return translating { base.transaction { closure(PostgresFluentDatabase(base: $0, pool: pool, scoped: scoped)) } }
    }

    func withConnection<T: Sendable>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        // Over a shared pool a session must not outlive its transaction's search_path.
        if needsScope { return transaction(closure) }
        let pool = self.pool, scoped = self.scoped
        return translating { base.withConnection { closure(PostgresFluentDatabase(base: $0, pool: pool, scoped: scoped)) } }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        translating {
            scopedBase { database in
                guard let sql = database as? any SQLDatabase else {
                    return database.eventLoop.makeFailedFuture(TenantedError(.invalidConfiguration, "FluentPostgresDriver's database is not an SQLDatabase"))
                }
                return sql.execute(sql: query, onRow)
            }
        }
    }

    /// Raw SQL from async code (SQLKit's `run()`, `all()`, `first()`): on the pool's own database,
    /// leases a connection from ``pool`` and runs the statement on it from the calling task, with no
    /// `EventLoopFuture` and no extra `Task` in between (FluentPostgresDriver's database starts one
    /// per statement); over a shared pool inside ``TenantedPostgres/PostgresTenantPool/withConnection(isolation:_:)``'s
    /// transaction scoped to the tenant's schema. Bound to a connection or a transaction, as before.
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        guard leasesFromPool, !scoped else {
            let future: EventLoopFuture<Void> = execute(sql: query, onRow)
            return try await future.get()
        }
        let level = queryLogLevel, logger = base.logger
        try await pool.withConnection { connection in
            try await connection.logging(to: logger).sql(queryLogLevel: level).execute(sql: query, onRow)
        }
    }

    /// Runs `operation` unless the tenant is known to be gone, and reports its failure as the tenant's
    /// (``PostgresTenantPool/translate(_:)``): a dropped database is `tenantNotFound`, never a hang
    /// or an internal error.
    ///
    /// FluentPostgresDriver leases its connections from the pool's client itself, past the check
    /// ``PostgresTenantPool/withConnection(isolation:_:)`` makes, so a query it writes to a
    /// connection the server has just closed is never answered (postgres-nio 1.33). The operation is
    /// therefore tracked by the pool (``PostgresTenantPool/trackOperation(failing:)``) and fails
    /// with `tenantNotFound` once the pool learns the tenant is gone, instead of waiting for ever.
    private func translating<T: Sendable>(_ operation: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let pool = self.pool
        if pool.currentValidity == .gone { return base.eventLoop.makeFailedFuture(pool.goneError) }
        let promise = base.eventLoop.makePromise(of: T.self)
        let id: Int
        do {
            id = try pool.trackOperation(failing: { promise.fail($0) })
        } catch {
            promise.fail(error)
            return promise.futureResult
        }
        promise.futureResult.whenComplete { _ in pool.operationEnded(id) }
        let future = operation()
        future.flatMapError { error in
            future.eventLoop.makeFutureWithTask { () async throws -> T in throw await pool.translate(error) }
        }.cascade(to: promise)
        return promise.futureResult
    }


    /// Runs `body` on `base`, first inside a transaction scoped to the tenant's schema when the pool
    /// is shared.
    private func scopedBase<T: Sendable>(_ body: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        guard needsScope else { return body(base) }
        let pool = self.pool
        return base.transaction { transaction in
            Self.setLocalSearchPath(on: transaction, pool: pool).flatMap { body(transaction) }
        }
    }

    private static func setLocalSearchPath(on database: any Database, pool: PostgresTenantPool) -> EventLoopFuture<Void> {
        guard let sql = database as? any SQLDatabase else {
            return database.eventLoop.makeFailedFuture(TenantedError(.invalidConfiguration, "FluentPostgresDriver's database is not an SQLDatabase"))
        }
        return sql.raw("SET LOCAL search_path TO \(ident: pool.schema)").run()
    }
}
