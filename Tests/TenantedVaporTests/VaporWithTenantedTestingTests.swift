import Fluent
import Tenanted
@testable import TenantedDemo
import TenantedSQLite
import TenantedTestSupport
import TenantedTesting
import TenantedVapor
import Testing
import Vapor
import VaporTesting

/// A Vapor app tested with TenantedTesting: the suite's throwaway tenancy behind a fresh app per
/// test, each test in a tenant of its own, requests routed to it by their host.
@Suite(.tenancy { storage in
    let migrations = TenantMigrations()
    migrations.add(CreateNotes())
    return try Tenancy(
        store: try SQLiteStore(configuration: .init(root: storage.directory, logger: .silent)),
        migrations: migrations, logger: .silent
    )
}, .tenant)
struct VaporWithTenantedTestingTests {
    @Test("a route serves the test's own tenant; another tenant's host is a 404", arguments: 0..<3)
    func routesServeTheTestsTenant(notes: Int) async throws {
        let tenant = try Tenant.require()
        let app = try await Application.make(.testing)
        // The trait owns the tenancy: the app's shutdown must leave it running for the next test.
        try app.tenanted.use(try TenantedTest.tenancy, shutsDownWithApplication: false)
        app.grouped(TenantMiddleware(resolver: try .subdomain(of: "localhost"))).get("count") { req async throws -> String in
            "\(try req.requireTenant()) \(try await Note.query(on: req.db).count())"
        }
        // Seeded in the test's tenant, through the same routing database as the route's `req.db`.
        for index in 0..<notes { try await Note(title: "n\(index)", body: "").create(on: app.db) }
        try await app.testing().test(.GET, "count", headers: ["Host": "\(tenant).localhost"]) { response in
            #expect(response.status == .ok)
            #expect(response.body.string == "\(tenant) \(notes)")
        }
        try await app.testing().test(.GET, "count", headers: ["Host": "nobody.localhost"]) { response in
            #expect(response.status == .notFound)
        }
        try await app.asyncShutdown()
        #expect(try await TenantedTest.tenancy.tenantExists(tenant), "the app's shutdown left the trait's tenancy running")
    }
}
