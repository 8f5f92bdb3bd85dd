import ArgumentParser
import Foundation
import Logging
import Tenanted
import TenantedDemoSupport
import TenantedHummingbird
import TenantedMySQL
import TenantedPostgres
import TenantedSQLite

/// The demo's tenancy, on the store `TENANTED_STORE` names, with the notes schema in plain SQL.
enum DemoTenancy: TenancyProvider {
    /// The environment of the process.
    /// - Throws: `ExitCode(64)` after printing the bad value.
    static func environment() throws -> DemoEnvironment {
        do {
            return try DemoEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            throw TenantedHummingbirdDemo.fail(error, status: 64)
        }
    }

    /// A tenancy over the store `environment` names.
    /// A destroyed tenant's files go after its database and its live sockets close (`services`).
    static func make(_ environment: DemoEnvironment, services: DemoServices, logger: Logger) throws -> Tenancy {
        switch environment.store {
        case .sqlite:
            return try make(environment.sqliteStore(), migrator: try SQLiteMigrator(NoteSchema.migrations), environment, services, logger: logger)
        case .postgresDatabase, .postgresSchema, .postgresSchemaShared:
            return try make(environment.postgresStore(), migrator: try PostgresMigrator(NoteSchema.migrations), environment, services, logger: logger)
        case .mysql:
            return try make(environment.mysqlStore(), migrator: try MySQLMigrator(NoteSchema.mysqlMigrations), environment, services, logger: logger)
        }
    }

    private static func make<Store: TenantStore, Migrator: TenantMigrator>(
        _ store: Store, migrator: Migrator, _ environment: DemoEnvironment, _ services: DemoServices, logger: Logger
    ) throws -> Tenancy where Migrator.Pool == Store.Pool {
        var configuration = Tenancy.Configuration()
        configuration.pools.maximumOpenPools = environment.maximumPools
        services.removeOnDestroy(&configuration.hooks)
        // Its files travel with backups, restores and clones.
        configuration.files = services.files
        // With a migration delay every create runs the (slowed) migration, so tests can kill it inside.
        configuration.createsFromTemplate = environment.migrationDelay == nil
        let schema: any TenantMigrator<Store.Pool> = environment.migrationDelay.map { PausedMigrator(base: migrator, pause: $0) } ?? migrator
        return try Tenancy(store: store, configuration: configuration, migrator: schema, logger: logger)
    }

    static func withTenancy(_ body: (Tenancy) async throws -> Void) async throws {
        let environment = try environment()
        let tenancy = try make(environment, services: try DemoServices(environment), logger: Logger(label: "tenanted-hummingbird-demo"))
        do {
            try await body(tenancy)
        } catch {
            await tenancy.shutdown()
            throw error
        }
        await tenancy.shutdown()
    }
}

/// `base`, with a pause before and after it (`TENANTED_DEMO_MIGRATION_DELAY_MS`, for the
/// reliability tests only).
struct PausedMigrator<Base: TenantMigrator>: TenantMigrator {
    let base: Base
    let pause: Duration

    func pendingMigrations(on pool: Base.Pool, tenant: TenantID) async throws -> [String] {
        try await base.pendingMigrations(on: pool, tenant: tenant)
    }

    func appliedMigrations(on pool: Base.Pool, tenant: TenantID) async throws -> [String] {
        try await base.appliedMigrations(on: pool, tenant: tenant)
    }

    func migrate(_ pool: Base.Pool, tenant: TenantID) async throws -> [String] {
        try await Task.sleep(for: pause / 2)
        let applied = try await base.migrate(pool, tenant: tenant)
        try await Task.sleep(for: pause / 2)
        return applied
    }

    func revertLastBatch(_ pool: Base.Pool, tenant: TenantID) async throws -> [String] {
        try await base.revertLastBatch(pool, tenant: tenant)
    }
}
