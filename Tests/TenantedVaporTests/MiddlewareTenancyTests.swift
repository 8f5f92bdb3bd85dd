import Foundation
import NIOPosix
import Tenanted
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
@testable import TenantedDemo
import TenantedVapor
import Testing
import Vapor

/// A middleware given its own tenancy: the request API re-enters that tenancy, not the app's default.
@Suite struct MiddlewareTenancyTests {
    @Test func reqWithTenantReentersTheTenancyTheMiddlewareWasGiven() async throws {
        let other = try TemporaryDirectory()
        let migrations = TenantMigrations()
        migrations.add(CreateNotes())
        // A tenancy of its own, on another storage root, that alone has the tenant `initech` — and a
        // thread pool of its own: on the shared two-thread pool, other tests' blocking SQLite waits
        // queued this request past the client's timeout once in a full run (CI: no HTTP response).
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let own = try Tenancy(
            store: try SQLiteStore(configuration: .init(root: other.path, threadPool: threads)), migrations: migrations, logger: .silent
        )
        // Shut down even when the request fails: a tenancy dropped with open SQLite pools trips
        // sqlite-nio's "connection not closed" assertion in a debug build (CI crashed so once).
        try await withTeardown {
            try await own.createTenant(TenantID("initech"))
            try await withDemoServer(configure: { app in
                let resolver = try TenantResolver.subdomain(of: "localhost")
                app.grouped(TenantMiddleware(tenancy: own, resolver: resolver)).get("detached") { req async throws -> String in
                    // A detached task: no task-local tenant; req.withTenant must find `own`, where initech is.
                    try await Task.detached { try await req.withTenant { Tenant.current?.description ?? "none" } }.value
                }
            }) { server in
                let answer = try await server.request("/detached", host: "initech.localhost")
                #expect(answer.status == 200)
                #expect(answer.body == "initech", "the app's default tenancy has no initech: \(answer.body)")
            }
        } teardown: {
            await own.shutdown()
        }
    }
}
