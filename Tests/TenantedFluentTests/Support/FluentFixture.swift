import FluentKit
import Logging
import NIOCore
import NIOPosix
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// A tenancy on SQLite files in a temporary directory, registered in a real `Databases` as the
/// default (routing) database, the way a Vapor app registers it.
final class FluentFixture: Sendable {
    let directory: TemporaryDirectory
    let migrations: TenantMigrations
    let tenancy: Tenancy
    let databases: Databases
    let eventLoop: any EventLoop

    init(
        migrations: TenantMigrations = .base(),
        configuration: Tenancy.Configuration = .init(),
        directory: TemporaryDirectory? = nil
    ) throws {
        self.directory = try directory ?? TemporaryDirectory()
        self.migrations = migrations
        tenancy = try Tenancy(
            // A generous busy timeout: tests that make two tenancies write one file (two "processes")
            // must not fail on a loaded 2-core machine just because the other writer was descheduled.
            store: try SQLiteStore(configuration: .init(root: self.directory.path, busyTimeout: .seconds(30), logger: .silent)),
            migrations: migrations,
            configuration: configuration,
            logger: .silent
        )
        databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// `req.db`: the default database, for a logger like `req.logger`.
    func db(logger: Logger = .silent) -> any Database {
        databases.database(logger: logger, on: eventLoop)!
    }

    /// Shuts `Databases` down, which shuts the tenancy down if the routing database was ever used,
    /// and the tenancy itself (idempotent), for when it was not.
    func shutdown() async {
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}

/// Runs `body` with a fixture and always shuts it down.
func withFluent(
    migrations: TenantMigrations = .base(),
    configuration: Tenancy.Configuration = .init(),
    tenants: [String] = ["acme", "globex"],
    _ body: (FluentFixture) async throws -> Void
) async throws {
    let fixture = try FluentFixture(migrations: migrations, configuration: configuration)
    do {
        for tenant in tenants { try await fixture.tenancy.createTenant(TenantID(tenant)) }
        try await body(fixture)
    } catch {
        await fixture.shutdown()
        throw error
    }
    await fixture.shutdown()
}

extension TenantID {
    static let acme = try! TenantID("acme")
    static let globex = try! TenantID("globex")
}
