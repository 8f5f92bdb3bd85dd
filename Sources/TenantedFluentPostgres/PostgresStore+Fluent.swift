public import FluentKit
import FluentPostgresDriver
import Logging
public import NIOCore
import NIOPosix
import PostgresKit
public import SQLKit
public import Tenanted
public import TenantedFluent
public import TenantedPostgres

extension PostgresStore: FluentTenantStore {
    /// The stock FluentPostgresDriver database over the pool's client, tagged with the tenant; in
    /// ``SchemaMode/sharedPool`` every operation runs in a transaction that begins with
    /// `SET LOCAL search_path`.
    public func makeDatabase(for pool: PostgresTenantPool, tenant: TenantID, context: DatabaseContext) -> any Database {
        PostgresFluentDatabase(base: Self.driver(of: pool).makeDatabase(with: context), pool: pool, scoped: false, leasesFromPool: true)
    }

    public var sqlDialect: any SQLDialect { PostgresDialect() }

    public var eventLoopGroup: any EventLoopGroup { configuration.eventLoopGroup }

    public func tableExists(_ table: String, on database: any SQLDatabase) async throws -> Bool {
        try await database.raw(
            "SELECT 1 AS found FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = \(bind: table)"
        ).first() != nil
    }

    /// Serialises migrations of one tenant across processes: a transaction-scoped advisory lock on the
    /// tenant's database and schema (transaction-scoped, so it holds through a transaction pooler).
    ///
    /// Fails closed first: in the same transaction, before any DDL, the database and schema in effect
    /// must be the tenant's.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when they are not.
    public func lockMigrations(on database: any SQLDatabase, tenant: TenantID) async throws {
        let row = try await database.raw(
            "SELECT current_database()::text AS db, current_schema()::text AS schema, pg_advisory_xact_lock(hashtextextended('tenanted:migrate:' || current_database() || ':' || coalesce(current_schema(), ''), 0))::text AS locked"
        ).first()
        try checkInEffect(
            database: try row?.decode(column: "db", as: String.self),
            schema: try row?.decode(column: "schema", as: String?.self),
            tenant: tenant,
            pool: (database as? PostgresFluentDatabase)?.pool
        )
    }

    /// The stock FluentPostgresDriver over the pool's client, made once per pool and kept in the
    /// pool's adapter slot (the store itself knows no Fluent).
    static func driver(of pool: PostgresTenantPool) -> any DatabaseDriver {
        pool.adapterValue { () -> any DatabaseDriver in
            DatabaseConfigurationFactory.postgres(client: pool.client, logger: logger)
                .make().makeDriver(for: driverFactory)
        }
    }

    /// Fluent's factory API wants a `Databases`; for a driver over an existing client it is not used
    /// beyond that, and nothing is registered in it, so one serves every pool.
    private static let logger = Logger(label: "tenanted.postgres.fluent")

    private static let driverFactory = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
}

