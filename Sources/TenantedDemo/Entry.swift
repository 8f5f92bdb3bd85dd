import Foundation
import Logging
import Tenanted
import TenantedFluent
import TenantedDemoSupport
import TenantedFluentPostgres
import TenantedMySQL
import TenantedPostgres
import TenantedFluentMySQL
import TenantedFluentSQLite
import TenantedSQLite
import TenantedAdmin
import TenantedVapor
import Vapor

/// `tenanted-demo`: a multi-tenant notes service on the SQLite store (or PostgreSQL or MySQL, `TENANTED_STORE`).
///
/// - `tenanted-demo [serve] [--hostname H] [--port P] [--base-domain D] [--no-seed]`
/// - `tenanted-demo tenants list|create|destroy|migrate|rollback|status|move|backup|restore|clone|suspend|resume …`
@main
enum TenantedDemo {
    static func main() async throws {
        var environment = try Environment.detect()
        let options: DemoOptions
        do {
            options = try DemoOptions.extract(from: &environment.arguments, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("tenanted-demo: \(error)\n".utf8))
            exit(64)
        }
        // Logs on standard error, so command results (and --json) own standard output.
        let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: .tenanted)
            handler.logLevel = level
            return handler
        }

        let app = try await Application.make(environment)
        do {
            try await configure(app, options)
            try await app.execute()
        } catch {
            if let error = error as? TenantedError {
                // Its HTTP reason hides details from clients; an operator at a terminal needs them.
                FileHandle.standardError.write(Data("tenanted-demo: \(error)\n".utf8))
            } else if !(error is TenantsCommandFailed) {
                app.logger.report(error: error)
            }
            try? await app.asyncShutdown()
            exit(1)
        }
        try await app.asyncShutdown()
    }

    static func configure(_ app: Application, _ options: DemoOptions) async throws {
        let services = try DemoServices(options.environment)
        let tenancy: Tenancy
        switch options.store {
        case .sqlite:
            tenancy = try use(try options.sqliteStore(), on: app, options, services)
        case .postgresDatabase, .postgresSchema, .postgresSchemaShared:
            tenancy = try use(try options.postgresStore(), on: app, options, services)
        case .mysql:
            tenancy = try use(try options.mysqlStore(), on: app, options, services)
        }
        app.tenanted.files = services.files
        app.storage[DemoServices.Key.self] = services
        app.asyncCommands.use(TenantsCommand(), as: "tenants")
        // Fluent's `migrate` runs without a tenant, so against the tenanted default it cannot work:
        // `tenants migrate` replaces it.
        app.asyncCommands.commands.removeValue(forKey: "migrate")
        app.commands.commands.removeValue(forKey: "migrate")

        // Both demos encode JSON alike (sorted keys), so they answer with the same bytes.
        ContentConfiguration.global.use(encoder: DemoServices.jsonEncoder(), for: .json)
        app.middleware = Middlewares()
        app.middleware.use(JSONErrorMiddleware())
        try routes(app, baseDomain: options.baseDomain, services: services)
        if let admin = options.environment.admin {
            // On the bare base domain only: the console answers 404 on a tenant's host.
            app.grouped(TenantMiddleware(resolver: try .subdomain(of: options.baseDomain)))
                .addAdminConsole(AdminConsole(tenancy: tenancy, configuration: admin, logger: app.logger))
        }

        if options.seed, isServe(app.environment.arguments), try await tenancy.tenants().isEmpty {
            for name in DemoEnvironment.seededTenants { try await tenancy.createTenant(TenantID(name)) }
            let port = value(of: "--port", in: app.environment.arguments) ?? "8080"
            FileHandle.standardOutput.write(Data(DemoEnvironment.seededMessage(baseDomain: options.baseDomain, port: port).utf8))
        }
    }

    /// Registers a tenancy over `store` with the demo's migrations.
    static func use<Store: FluentTenantStore>(
        _ store: Store, on app: Application, _ options: DemoOptions, _ services: DemoServices
    ) throws -> Tenancy {
        let migrations = TenantMigrations()
        migrations.add(options.migrationDelay.map { PausedMigration(base: CreateNotes(), pause: $0) } ?? CreateNotes())
        var configuration = Tenancy.Configuration()
        configuration.pools.maximumOpenPools = options.maximumPools
        // A destroyed tenant's files go after its database, and its live sockets close.
        services.removeOnDestroy(&configuration.hooks)
        // Its files travel with backups, restores and clones.
        configuration.files = services.files
        // With a migration delay every create runs the (slowed) migration, so tests can kill it inside.
        configuration.createsFromTemplate = options.migrationDelay == nil
        let tenancy = try Tenancy(store: store, migrations: migrations, configuration: configuration, logger: app.logger)
        try app.tenanted.use(tenancy)
        return tenancy
    }

    /// Whether the command line runs the server (Vapor's default command).
    static func isServe(_ arguments: [String]) -> Bool {
        arguments.dropFirst().first == "serve"
    }

    static func value(of option: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: option), arguments.index(after: index) < arguments.endIndex else { return nil }
        return arguments[arguments.index(after: index)]
    }
}
