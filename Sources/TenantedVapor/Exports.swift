// A Vapor app adds one product, TenantedVapor, and `import TenantedVapor` is enough for everything
// the README's tutorial uses: `TenantID`, `Tenancy` (Tenanted), `TenantMigrations`, `@TenantOrigin`
// (TenantedFluent) and `SQLiteStore` (TenantedSQLite). Without these re-exports a newcomer who
// imports Vapor, Fluent and TenantedVapor meets "cannot find 'Tenancy' in scope" (issue 15).
@_exported public import Tenanted
@_exported public import TenantedFluent
@_exported public import TenantedSQLite
