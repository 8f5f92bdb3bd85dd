// A Vapor app adds one product, TenantedVapor, and `import TenantedVapor` is enough for everything
// the README's tutorial uses: `TenantID`, `Tenancy` (Tenanted), `TenantMigrations`, `@TenantOrigin`
// (TenantedFluent) and, with the package's default trait `SQLite`, `SQLiteStore` and its Fluent
// driver (TenantedSQLite, TenantedFluentSQLite). Without these re-exports a newcomer who imports
// Vapor, Fluent and TenantedVapor meets "cannot find 'Tenancy' in scope" (issue 15). An app on
// PostgreSQL only turns the trait off and links no SQLite.
@_exported public import Tenanted
@_exported public import TenantedFluent
#if SQLite
@_exported public import TenantedSQLite
@_exported public import TenantedFluentSQLite
#endif
