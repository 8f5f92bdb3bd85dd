public import FluentKit
public import NIOCore
public import SQLKit
public import Tenanted
public import TenantedFluent
public import TenantedMySQL

extension MySQLStore: FluentTenantStore {
    /// A Fluent database over `pool`: FluentSQL's converters and the ``MySQLDialect`` over the MariaDB
    /// client, rows tagged with the tenant.
    public func makeDatabase(for pool: MySQLTenantPool, tenant: TenantID, context: DatabaseContext) -> any Database {
        MySQLFluentDatabase(pool: pool, context: context, connection: nil, transactionState: nil)
    }

    public var sqlDialect: any SQLDialect { MySQLDialect() }

    public var eventLoopGroup: any EventLoopGroup { configuration.eventLoopGroup }

    public func tableExists(_ table: String, on database: any SQLDatabase) async throws -> Bool {
        try await database.raw(
            "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = \(bind: table)"
        ).first() != nil
    }

    /// Serialises migrations of one tenant across processes: `GET_LOCK` on a name derived from the
    /// tenant's database, held by the transaction's connection and released when the transaction ends.
    public func lockMigrations(on database: any SQLDatabase, tenant: TenantID) async throws {
        let row = try await database.raw(
            "SELECT GET_LOCK(CONCAT('tenanted:migrate:', SHA1(DATABASE())), 300) AS got"
        ).first()
        (database as? MySQLFluentDatabase)?.transactionState?.lockTaken()
        guard try row?.decode(column: "got", as: Int?.self) == 1 else {
            throw TenantedError(.storeFailure, "tenant '\(tenant)': another process held its migration lock for 5 minutes", tenant: tenant)
        }
    }
}
