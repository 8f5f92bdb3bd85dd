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
    /// `tenancy.shutdown()` (idempotent). With `shutsDown: false` the driver leaves the tenancy
    /// running: for a tenancy whose life something else owns (a `ServiceGroup`, a test trait).
    ///
    /// A tenancy whose store has no Fluent adapter (import `TenantedFluentSQLite` or
    /// `TenantedFluentPostgres` for the built-in stores) gives a database whose every operation
    /// fails with ``Tenanted/TenantedError/Code/misuse``; ``Tenanted/Tenancy/requireFluentStore()``
    /// says so at configuration time.
    public static func tenanted(_ tenancy: Tenancy, shutsDown: Bool = true) -> Self {
        .init {
            do throws(TenantedError) {
                return try routingConfiguration(tenancy, store: tenancy.requireFluentStore(), shutsDown: shutsDown)
            } catch {
                return UnroutableConfiguration(error: error)
            }
        }
    }

    private static func routingConfiguration<Store: FluentTenantStore>(_ tenancy: Tenancy, store: Store, shutsDown: Bool) -> any DatabaseConfiguration {
        TenantRoutingConfiguration(tenancy: tenancy, store: store, shutsDown: shutsDown)
    }
}

extension Tenancy {
    /// The tenancy's store as a ``FluentTenantStore``.
    /// - Throws: ``Tenanted/TenantedError/Code/misuse`` when the store has no Fluent adapter.
    public func requireFluentStore() throws(TenantedError) -> any FluentTenantStore {
        guard let store = store as? any FluentTenantStore else {
            throw TenantedError(
                .misuse,
                "\(type(of: store)) has no Fluent adapter; import its Fluent module "
                    + "(TenantedFluentSQLite, TenantedFluentPostgres) where the tenancy is configured"
            )
        }
        return store
    }
}

/// The routing configuration registered by ``FluentKit/DatabaseConfigurationFactory/tenanted(_:)``.
struct TenantRoutingConfiguration<Store: FluentTenantStore>: DatabaseConfiguration {
    let tenancy: Tenancy
    let store: Store
    let shutsDown: Bool
    /// Model middleware registered with `databases.middleware.use(_:on:)`.
    var middleware: [any AnyModelMiddleware] = []

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        TenantRoutingDriver(tenancy: tenancy, store: store, shutsDown: shutsDown)
    }
}
