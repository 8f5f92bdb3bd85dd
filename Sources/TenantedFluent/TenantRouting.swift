public import FluentKit
import Logging
import NIOCore
import SQLKit
public import Tenanted

extension DatabaseID {
    /// The ID Tenanted's examples register the routing database under, as the default database.
    public static let tenanted = DatabaseID(string: "tenanted")
}

extension DatabaseConfigurationFactory {
    /// A database that routes every Fluent call to the current tenant's database.
    ///
    /// Register it as the **default** database, so `req.db`, `app.db` and `Model.query(on:)` are
    /// tenanted without changes:
    ///
    /// ```swift
    /// app.databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    /// ```
    ///
    /// Each `Databases.database(...)` call resolves the tenant once, in this order:
    /// 1. the current ``Tenanted/Tenant/lease`` (a `withTenant` scope of `tenancy`): the database of
    ///    the leased pool, at no cost;
    /// 2. ``Tenanted/Tenant/current`` without a lease of `tenancy`, or else the `tenant` metadata of
    ///    the context's logger (Vapor passes `req.logger`, which Tenanted's middleware tags, so code
    ///    behind a future-based middleware or in an event-loop callback still routes): a database
    ///    that leases the tenant's pool for each operation;
    /// 3. neither: a database whose every operation fails with ``Tenanted/TenantedError/Code/noTenant``.
    ///    There is no fallback database.
    ///
    /// The database returned is the tenant's own (``TenantBoundDatabase``), so transactions,
    /// `withConnection`, `as? SQLDatabase` and model middleware registered with
    /// `databases.middleware.use(_:on:)` work as on any Fluent database.
    ///
    /// Shutting the routing driver down (Vapor does at application shutdown) shuts `tenancy` down:
    /// every pool is closed once its leases end. `Databases` makes the driver on first use and shuts
    /// down only drivers it made, so also run `tenancy` in your `ServiceGroup` or call
    /// `tenancy.shutdown()` (idempotent).
    public static func tenanted<Store: FluentTenantStore>(_ tenancy: Tenancy<Store>) -> Self {
        .init { TenantRoutingConfiguration(tenancy: tenancy) }
    }
}

/// The routing configuration registered by ``FluentKit/DatabaseConfigurationFactory/tenanted(_:)``.
struct TenantRoutingConfiguration<Store: FluentTenantStore>: DatabaseConfiguration {
    let tenancy: Tenancy<Store>
    /// Model middleware registered with `databases.middleware.use(_:on:)`.
    var middleware: [any AnyModelMiddleware] = []

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        TenantRoutingDriver(tenancy: tenancy)
    }
}

/// The configuration a tenant's database sees as `context.configuration`: the app's model
/// middleware behind Tenanted's record guard. It is never registered in `Databases`.
struct TenantDatabaseConfiguration: DatabaseConfiguration {
    var middleware: [any AnyModelMiddleware]
    let dialect: any SQLDialect

    init(appMiddleware: [any AnyModelMiddleware], dialect: any SQLDialect) {
        self.middleware = [TenantRecordGuard()] + appMiddleware
        self.dialect = dialect
    }

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        UnroutableDriver(dialect: dialect)
    }

    /// The context of a tenant's own database: the tenant's record guard before the app's model
    /// middleware, and `logger` tagged with the tenant.
    static func context(
        for tenant: TenantID,
        appMiddleware: [any AnyModelMiddleware],
        dialect: any SQLDialect,
        logger: Logger,
        eventLoop: any EventLoop,
        history: QueryHistory? = nil,
        pageSizeLimit: Int? = nil
    ) -> DatabaseContext {
        var logger = logger
        logger[metadataKey: Logger.tenantMetadataKey] = "\(tenant)"
        return DatabaseContext(
            configuration: TenantDatabaseConfiguration(appMiddleware: appMiddleware, dialect: dialect),
            logger: logger, eventLoop: eventLoop, history: history, pageSizeLimit: pageSizeLimit
        )
    }
}

/// The driver of a configuration that was never meant to be registered: every database fails.
struct UnroutableDriver: DatabaseDriver {
    let dialect: any SQLDialect

    func makeDatabase(with context: DatabaseContext) -> any Database {
        NoTenantDatabase(
            context: context, dialect: dialect,
            error: TenantedError(.invalidConfiguration, "a tenant database's configuration cannot be registered in Databases; register .tenanted(tenancy)")
        )
    }

    func shutdown() {}
}

struct TenantRoutingDriver<Store: FluentTenantStore>: DatabaseDriver {
    let tenancy: Tenancy<Store>

    func makeDatabase(with context: DatabaseContext) -> any Database {
        let tenancy = self.tenancy
        let tenantContext = { (tenant: TenantID) in
            TenantDatabaseConfiguration.context(
                for: tenant, appMiddleware: context.configuration.middleware, dialect: tenancy.store.sqlDialect,
                logger: context.logger, eventLoop: context.eventLoop, history: context.history, pageSizeLimit: context.pageSizeLimit
            )
        }
        if let lease = Tenant.lease, let pool = tenancy.pools.pool(of: lease) {
            return tenancy.store.makeDatabase(for: pool, tenant: lease.tenant, context: tenantContext(lease.tenant))
        }
        if let tenant = Tenant.current {
            return LeasingTenantDatabase(tenancy: tenancy, tenantID: tenant, context: tenantContext(tenant))
        }
        switch Self.loggerTenant(context.logger) {
        case .none:
            return NoTenantDatabase(context: context, dialect: tenancy.store.sqlDialect, error: .noTenant("database access"))
        case .invalid(let error):
            return NoTenantDatabase(context: context, dialect: tenancy.store.sqlDialect, error: error)
        case .tenant(let tenant):
            return LeasingTenantDatabase(tenancy: tenancy, tenantID: tenant, context: tenantContext(tenant))
        }
    }

    /// Databases' synchronous shutdown (`noasync`, called under FluentKit's `Databases` lock) starts
    /// the tenancy's shutdown and returns without waiting: blocking here would hold that lock, which
    /// every request touching `req.db` also needs, until the last tenant scope ended. Vapor's async
    /// lifecycle calls ``shutdownAsync()``, which waits.
    func shutdown() {
        let tenancy = self.tenancy
        Task { await tenancy.shutdown() }
    }


    func shutdownAsync() async {
        await tenancy.shutdown()
    }

    enum LoggerTenant {
        case none
        case tenant(TenantID)
        case invalid(TenantedError)
    }

    /// The `tenant` metadata of a logger, as a validated name.
    static func loggerTenant(_ logger: Logger) -> LoggerTenant {
        guard let value = logger[metadataKey: Logger.tenantMetadataKey] else { return .none }
        let name: String
        switch value {
        case .string(let string): name = string
        case .stringConvertible(let convertible): name = convertible.description
        default:
            return .invalid(TenantedError(.badTenantName, "the logger's tenant metadata is not a string"))
        }
        do {
            return .tenant(try TenantID(name))
        } catch {
            return .invalid(error)
        }
    }
}
