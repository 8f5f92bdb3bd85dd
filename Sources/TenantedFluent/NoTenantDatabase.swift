import FluentKit
import NIOCore
import SQLKit
import Tenanted

/// What the routing database returns when there is no tenant: every operation fails with
/// ``Tenanted/TenantedError/Code/noTenant`` (or ``Tenanted/TenantedError/Code/badTenantName`` when
/// the logger names an invalid tenant). It is an `SQLDatabase` too, so a raw-SQL cast fails the
/// same way instead of crashing.
struct NoTenantDatabase: TenantBoundDatabase, SQLDatabase {
    let context: DatabaseContext
    let dialect: any SQLDialect
    let error: TenantedError

    var tenant: TenantID? { nil }
    var inTransaction: Bool { false }

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(error)
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(error)
    }

    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(error)
    }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        eventLoop.makeFailedFuture(error)
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        eventLoop.makeFailedFuture(error)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(error)
    }
}
