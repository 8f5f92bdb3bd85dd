import FluentKit
import Logging
import NIOCore
import SQLKit
import Tenanted

struct TenantRoutingDriver<Store: FluentTenantStore>: DatabaseDriver {
    let tenancy: Tenancy
    let store: Store
    /// Whether shutting the driver down shuts the tenancy down.
    let shutsDown: Bool

    func makeDatabase(with context: DatabaseContext) -> any Database {
        let tenancy = self.tenancy, store = self.store
        let tenantContext = { (tenant: TenantID) in
            TenantDatabaseConfiguration.context(
                for: tenant, appMiddleware: context.configuration.middleware, dialect: store.sqlDialect,
                logger: context.logger, eventLoop: context.eventLoop, history: context.history, pageSizeLimit: context.pageSizeLimit
            )
        }
        if let lease = Tenant.lease, let pool = tenancy.pools.pool(of: lease) as? Store.Pool {
            return store.makeDatabase(for: pool, tenant: lease.tenant, context: tenantContext(lease.tenant))
        }
        if let tenant = Tenant.current {
            return LeasingTenantDatabase(tenancy: tenancy, store: store, tenantID: tenant, context: tenantContext(tenant))
        }
        switch Self.loggerTenant(context.logger) {
        case .none:
            return NoTenantDatabase(context: context, dialect: store.sqlDialect, error: .noTenant("database access"))
        case .invalid(let error):
            return NoTenantDatabase(context: context, dialect: store.sqlDialect, error: error)
        case .tenant(let tenant):
            return LeasingTenantDatabase(tenancy: tenancy, store: store, tenantID: tenant, context: tenantContext(tenant))
        }
    }

    /// Databases' synchronous shutdown (`noasync`, called under FluentKit's `Databases` lock) starts
    /// the tenancy's shutdown and returns without waiting: blocking here would hold that lock, which
    /// every request touching `req.db` also needs, until the last tenant scope ended. Vapor's async
    /// lifecycle calls ``shutdownAsync()``, which waits.
    func shutdown() {
        guard shutsDown else { return }
        let tenancy = self.tenancy
        Task { await tenancy.shutdown() }
    }


    func shutdownAsync() async {
        guard shutsDown else { return }
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
