public import FluentKit
public import NIOCore
public import SQLKit
public import Tenanted

/// A ``Tenanted/TenantStore`` whose open pools serve Fluent.
///
/// The routing database (``FluentKit/DatabaseConfigurationFactory/tenanted(_:)``) asks the store for
/// the Fluent `Database` of the current tenant's open pool; the migrator
/// (``FluentTenantMigrator``) uses the same database to run a tenant's migrations.
/// `SQLiteStore` conforms in this module.
public protocol FluentTenantStore: TenantStore {
    /// The Fluent database over one tenant's open pool, for one `context` (logger, event loop and
    /// configuration, whose model middleware apply).
    ///
    /// Called synchronously from `Databases.database(...)`, under its lock: it must not block and
    /// must not call back into `Databases`.
    func makeDatabase(for pool: Pool, tenant: TenantID, context: DatabaseContext) -> any Database

    /// The SQL dialect of the tenants' databases.
    var sqlDialect: any SQLDialect { get }

    /// The event loops of the Fluent contexts Tenanted makes itself (migrations, commands).
    var eventLoopGroup: any EventLoopGroup { get }

    /// Whether `table` exists in `database`; lets the migrator read `_fluent_migrations` without
    /// creating it.
    func tableExists(_ table: String, on database: any SQLDatabase) async throws -> Bool

    /// Called first inside the transaction of every migration batch and rollback of `tenant`, on
    /// that transaction's `database`: take a lock that serialises migrations of this tenant across
    /// processes. The default does nothing (SQLite's `BEGIN IMMEDIATE` already holds the write lock).
    func lockMigrations(on database: any SQLDatabase, tenant: TenantID) async throws
}

extension FluentTenantStore {
    public func lockMigrations(on database: any SQLDatabase, tenant: TenantID) async throws {}
}

/// A Fluent database that knows which tenant it belongs to.
///
/// Every database the routing configuration returns conforms: the tenant's own database, the one
/// that resolves its tenant per operation, and the one that fails with ``Tenanted/TenantedError/Code/noTenant``
/// (whose `tenant` is `nil`).
///
/// ```swift
/// let tenant = (req.db as? any TenantBoundDatabase)?.tenant
/// ```
public protocol TenantBoundDatabase: Database {
    /// The tenant whose data this database reads and writes; `nil` when there is none.
    var tenant: TenantID? { get }
}
