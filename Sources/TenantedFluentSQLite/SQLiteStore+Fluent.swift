public import FluentKit
import FluentSQL
import Logging
public import NIOCore
public import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
public import Tenanted
public import TenantedSQLite
public import TenantedFluent

extension SQLiteStore: FluentTenantStore {
    /// A Fluent database over `pool`: reads go to a reader connection, everything else (writes,
    /// schema changes, raw SQL, transactions, `withConnection`) to the tenant's single writer.
    public func makeDatabase(for pool: SQLitePool, tenant: TenantID, context: DatabaseContext) -> any Database {
        SQLiteFluentDatabase(pool: pool, context: context, connection: nil, inTransaction: false)
    }

    public var sqlDialect: any SQLDialect { SQLiteDialect() }

    public var eventLoopGroup: any EventLoopGroup { configuration.eventLoopGroup }

    public func tableExists(_ table: String, on database: any SQLDatabase) async throws -> Bool {
        try await database.raw("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)")
            .first() != nil
    }
}
