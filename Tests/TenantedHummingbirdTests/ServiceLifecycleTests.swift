import Hummingbird
import HummingbirdTesting
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The tenancy runs in the app's ServiceGroup (`services: [tenancy]`).
@Suite("The tenancy as a service of a Hummingbird app")
struct ServiceLifecycleTests {
    @Test("graceful shutdown of the app's ServiceGroup closes every open pool")
    func gracefulShutdownClosesEveryPool() async throws {
        let setup = try await TestTenancy()
        let tenancy = setup.tenancy
        let router = Router(context: BasicTenantRequestContext.self)
        router.add(middleware: TenantMiddleware(tenancy: tenancy, resolver: .firstHostLabel()))
        router.get("notes") { _, context in try await titles(context).joined(separator: ",") }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [tenancy], logger: .silent)
        try await app.test(.live) { client in
            for host in ["acme.example.com", "globex.example.com"] {
                let response = try await send(client, "GET", "/notes", host: host)
                #expect(response.status == 200)
            }
            #expect(tenancy.pools.openCount == 2, "both tenants' pools are open while the app runs")
        }
        #expect(tenancy.pools.openCount == 0, "the ServiceGroup's graceful shutdown closed every pool")
        await #expect(throws: TenantedError.self) {
            try await tenancy.withTenant(TenantID("acme")) {}
        }
    }
}
