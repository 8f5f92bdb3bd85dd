import FluentKit
import Logging
import NIOCore
import SQLKit
import Tenanted

/// The configuration a tenant's database sees as `context.configuration`: the app's model
/// middleware behind Tenanted's record guards (one per model type with `@TenantOrigin`, read at
/// each model event so a type first used later is guarded too). It is never registered in
/// `Databases`.
struct TenantDatabaseConfiguration: DatabaseConfiguration {
    /// The app's own model middleware.
    var appMiddleware: [any AnyModelMiddleware]
    let dialect: any SQLDialect

    var middleware: [any AnyModelMiddleware] {
        get { TenantRecordGuards.all + appMiddleware }
        set { appMiddleware = newValue.filter { !($0 is any TenantRecordGuarding) } }
    }

    init(appMiddleware: [any AnyModelMiddleware], dialect: any SQLDialect) {
        self.appMiddleware = appMiddleware
        self.dialect = dialect
    }

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        UnroutableDriver(dialect: dialect)
    }

    /// The context of a tenant's own database: the record guards before the app's model
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
        // A logger already tagged with this tenant (a request's, by the tenant middleware) is kept
        // as it is: setting metadata copies the logger's whole metadata dictionary.
        if !Self.isTagged(logger, with: tenant) {
            logger[metadataKey: Logger.tenantMetadataKey] = .string(tenant.rawValue)
        }
        return DatabaseContext(
            configuration: TenantDatabaseConfiguration(appMiddleware: appMiddleware, dialect: dialect),
            logger: logger, eventLoop: eventLoop, history: history, pageSizeLimit: pageSizeLimit
        )
    }

    /// Whether `logger`'s tenant metadata already names `tenant`.
    static func isTagged(_ logger: Logger, with tenant: TenantID) -> Bool {
        switch logger[metadataKey: Logger.tenantMetadataKey] {
        case .string(let name)?: name == tenant.rawValue
        case .stringConvertible(let value)?: value.description == tenant.rawValue
        default: false
        }
    }
}
