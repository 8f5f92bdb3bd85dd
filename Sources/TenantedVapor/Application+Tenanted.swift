import Fluent
public import FluentKit
public import Tenanted
public import TenantedFluent
public import Vapor

extension Application {
    /// Tenanted's entry point: `app.tenanted.use(tenancy)`.
    public var tenanted: TenantedSupport { .init(application: self) }

    /// Configures Tenanted on an application.
    public struct TenantedSupport: Sendable {
        let application: Application

        struct Key: StorageKey {
            typealias Value = Tenancy
        }

        /// Makes `tenancy` the application's: registers its routing database as the **default**
        /// database (so `req.db` is the request's tenant), keeps it for ``TenantMiddleware`` and the
        /// `tenants` commands, and shuts it down with the application.
        ///
        /// It also wraps Fluent's `migrate` command, which runs only `app.migrations` (the shared
        /// databases), so that it ends by saying that tenant migrations are `tenants migrate`
        /// instead of silently leaving every tenant behind.
        ///
        /// - Parameters:
        ///   - id: the routing database's ID. Default: `.tenanted`.
        ///   - shutsDownWithApplication: whether the application's shutdown shuts the tenancy down.
        ///     Default: `true`. Pass `false` when something else owns the tenancy's life — a
        ///     `ServiceGroup`, or TenantedTesting's `.tenancy` trait that outlives each test's app.
        /// - Throws: ``Tenanted/TenantedError/Code/misuse`` when the tenancy's store has no Fluent
        ///   adapter (import `TenantedFluentSQLite` or `TenantedFluentPostgres`).
        public func use(_ tenancy: Tenancy, as id: DatabaseID = .tenanted, shutsDownWithApplication: Bool = true) throws(TenantedError) {
            _ = try tenancy.requireFluentStore()
            application.storage[Key.self] = tenancy
            application.databases.use(.tenanted(tenancy, shutsDown: shutsDownWithApplication), as: id, isDefault: true)
            if shutsDownWithApplication { application.lifecycle.use(TenancyLifecycle(tenancy: tenancy)) }
            // `databases` has just made Fluent register `migrate` (it does so on first use).
            if let migrate = application.asyncCommands.commands["migrate"], !(migrate is SharedMigrateCommand) {
                application.asyncCommands.use(SharedMigrateCommand(fluent: migrate), as: "migrate")
            }
        }

        /// The configured tenancy, or `nil`.
        public var tenancy: Tenancy? { application.storage[Key.self] }

        /// The configured tenancy.
        /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when `use(_:as:)` was not called.
        public func requireTenancy() throws -> Tenancy {
            guard let tenancy else {
                throw TenantedError(.invalidConfiguration, "no tenancy configured; call app.tenanted.use(tenancy) first")
            }
            return tenancy
        }
    }
}

/// Shuts the tenancy down when the application shuts down.
struct TenancyLifecycle: LifecycleHandler {
    let tenancy: Tenancy

    func shutdownAsync(_ application: Application) async {
        await tenancy.shutdown()
    }
}
