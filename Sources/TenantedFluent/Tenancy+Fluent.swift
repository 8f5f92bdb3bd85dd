public import FluentKit
import Logging
public import Tenanted

extension Tenancy {
    /// Creates a tenancy whose tenants are migrated with Fluent.
    ///
    /// ```swift
    /// let migrations = TenantMigrations()
    /// migrations.add(CreateNote())
    /// let tenancy = try Tenancy(store: try SQLiteStore(), migrations: migrations)
    /// app.databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    /// ```
    ///
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for an out-of-range option.
    public convenience init<Store: FluentTenantStore>(
        store: Store,
        migrations: TenantMigrations,
        configuration: Configuration = .init(),
        seed: TenantSeed<Store.Pool>? = nil,
        delegate: any TenancyDelegate = NoTenancyDelegate(),
        logger: Logger = Logger(label: "tenanted")
    ) throws(TenantedError) {
        try self.init(
            store: store,
            configuration: configuration,
            migrator: FluentTenantMigrator(store: store, migrations: migrations, logger: logger),
            seed: seed,
            delegate: delegate,
            logger: logger
        )
    }
}
