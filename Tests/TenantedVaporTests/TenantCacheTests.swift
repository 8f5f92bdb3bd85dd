import Tenanted
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor

@Suite("req.tenantCache")
struct TenantCacheTests {
    @Test("a tenant's keys are scoped in the app's cache: two tenants never see each other's values; no tenant is noTenant")
    func scopedKeys() async throws {
        let app = try await Application.make(.testing)
        app.caches.use(.memory)
        let acme = try TenantID("acme"), globex = try TenantID("globex")
        let acmeCache = TenantCache(base: app.cache, tenant: acme)
        let globexCache = TenantCache(base: app.cache, tenant: globex)
        try await acmeCache.set("count", to: 7)
        try await globexCache.set("count", to: 9, expiresIn: .minutes(1))
        #expect(try await acmeCache.get("count", as: Int.self) == 7)
        #expect(try await globexCache.get("count", as: Int.self) == 9)
        #expect(try await app.cache.get("count", as: Int.self) == nil, "no unscoped key was written")
        #expect(try await app.cache.get(TenantCacheKey.scoped("count", for: acme), as: Int.self) == 7)
        try await acmeCache.delete("count")
        #expect(try await acmeCache.get("count", as: Int.self) == nil)
        #expect(try await globexCache.get("count", as: Int.self) == 9)

        let request = Request(application: app, on: app.eventLoopGroup.any())
        let error = #expect(throws: TenantedError.self) { try request.tenantCache }
        #expect(error?.code == .noTenant)
        try await app.asyncShutdown()
    }
}
