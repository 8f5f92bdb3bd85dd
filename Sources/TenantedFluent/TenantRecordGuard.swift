import FluentKit
import Tenanted

/// Refuses to write a model of one tenant through another tenant's database, and stamps new models
/// with the tenant they are created in: the record guard of one model type `M` that declares
/// `@TenantOrigin`.
///
/// Why one guard per type: FluentKit calls an `AsyncModelMiddleware` directly from its async
/// `create`/`update`/`delete`, but any other model middleware through its `EventLoopFuture` API,
/// which costs every write a new `Task` and an event-loop round trip (about 10 % of a routed
/// insert on SQLite). An async model middleware serves exactly one model type, so each type with a
/// tenant origin gets its own guard, registered by its first instance (``TenantRecordGuards``);
/// models without `@TenantOrigin` have none and pay nothing.
struct TenantRecordGuard<M: FluentKit.Model>: AsyncModelMiddleware, TenantRecordGuarding {
    typealias Model = M

    func create(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        guard let target = try Self.check(model, on: db) else { return try await next.create(model, on: db) }
        try await next.create(model, on: db)
        Self.origin(of: model)?.origin = target
    }

    func update(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        _ = try Self.check(model, on: db)
        try await next.update(model, on: db)
    }

    func delete(model: M, force: Bool, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        _ = try Self.check(model, on: db)
        try await next.delete(model, force: force, on: db)
    }

    func softDelete(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        _ = try Self.check(model, on: db)
        try await next.softDelete(model, on: db)
    }

    func restore(model: M, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        _ = try Self.check(model, on: db)
        try await next.restore(model, on: db)
    }

    /// The database's tenant when `model` may be written through `db`; `nil` when there is nothing
    /// to guard (no `@TenantOrigin`, or a database with no tenant, which fails on its own).
    /// - Throws: ``Tenanted/TenantedError/Code/wrongTenant`` for a model of another tenant.
    private static func check(_ model: M, on db: any Database) throws -> TenantID? {
        guard origin(of: model) != nil, let target = (db as? any TenantBoundDatabase)?.tenant else { return nil }
        if let origin = origin(of: model)?.origin, origin != target {
            throw TenantedError.wrongTenant(record: origin, database: target, model: model)
        }
        return target
    }

    private static func origin(of model: M) -> (any AnyTenantOrigin)? {
        TenantOriginLookup.property(of: model)
    }
}

/// Marks Tenanted's record guards, so a configuration's setter keeps only the app's middleware.
protocol TenantRecordGuarding {}
