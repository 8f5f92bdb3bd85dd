import FluentKit
import NIOCore
import SQLKit
import Tenanted

/// The routing database for a tenant named by the task's context without a lease of this tenancy,
/// or by the logger's `tenant` metadata (a future callback, a `Task.detached` that was handed a
/// tagged logger): each operation leases the tenant's pool for its own duration.
///
/// A missing tenant fails each operation with ``Tenanted/TenantedError/Code/tenantNotFound``; inside
/// a scope of another tenant that prohibits switching, with ``Tenanted/TenantedError/Code/switchProhibited``.
struct LeasingTenantDatabase<Store: FluentTenantStore>: TenantBoundDatabase, SQLDatabase {
    let tenancy: Tenancy
    let store: Store
    let tenantID: TenantID
    let context: DatabaseContext

    var tenant: TenantID? { tenantID }
    var inTransaction: Bool { false }
    var dialect: any SQLDialect { store.sqlDialect }

    func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        leasing { try await $0.execute(query: query, onOutput: onOutput).get() }
    }

    func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        leasing { try await $0.execute(schema: schema).get() }
    }

    func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        leasing { try await $0.execute(enum: `enum`).get() }
    }

    func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        leasing { try await $0.transaction(closure).unchecked() }.map(\.value)
    }

    func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        leasing { try await $0.withConnection(closure).unchecked() }.map(\.value)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        leasing { database in
            guard let sql = database as? any SQLDatabase else {
                throw TenantedError(.invalidConfiguration, "\(Store.self)'s Fluent database is not an SQLDatabase")
            }
            try await sql.execute(sql: query, onRow)
        }
    }

    /// Runs `body` on the tenant's own database, inside a scope that leases its pool.
    private func leasing<Value: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> Value) -> EventLoopFuture<Value> {
        let tenancy = self.tenancy, store = self.store, tenant = self.tenantID, context = self.context
        return eventLoop.makeFutureWithTask {
            try await tenancy.withTenant(tenant) {
                let pool = try tenancy.currentPool(as: Store.Pool.self)
                return try await body(store.makeDatabase(for: pool, tenant: tenant, context: context))
            }
        }
    }
}
