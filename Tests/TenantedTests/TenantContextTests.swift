import Logging
import Tenanted
import Testing

private func tenant(_ name: String) -> TenantID {
    do { return try TenantID(name) } catch { preconditionFailure("\(name) is valid") }
}

@Suite("The tenant context")
struct TenantContextTests {
    let acme = tenant("acme")
    let globex = tenant("globex")

    @Test("outside every scope there is no tenant, and require() throws noTenant")
    func noTenant() {
        #expect(Tenant.current == nil)
        #expect(Tenant.lease == nil)
        #expect(throws: TenantedError.self) { try Tenant.require() }
        do {
            _ = try Tenant.require()
        } catch {
            #expect(error.code == .noTenant)
        }
    }

    @Test("withTenant sets the tenant for the body and returns its value (sync and async)")
    func returnsValue() async throws {
        let sync = try withTenant(acme) { try Tenant.require() }
        #expect(sync == acme)
        let async = try await withTenant(globex) { () async throws -> TenantID? in
            await Task.yield()
            return Tenant.current
        }
        #expect(async == globex)
        #expect(Tenant.current == nil)
    }

    @Test("nested withTenant with the same tenant is allowed, even when switching is prohibited")
    func nestedSame() throws {
        let inner = try withTenant(acme, prohibitingSwitches: true) {
            try withTenant(acme) { Tenant.current }
        }
        #expect(inner == acme)
    }

    @Test("a different tenant inside a scope without the prohibition replaces it, then restores it")
    func nestedDifferentAllowed() throws {
        let seen = try withTenant(acme) {
            let inner = try withTenant(globex) { Tenant.current }
            return [inner, Tenant.current]
        }
        #expect(seen == [globex, acme])
    }

    @Test("a different tenant inside a scope that prohibits switching is refused and its body never runs")
    func switchProhibited() throws {
        var ran = false
        do {
            try withTenant(acme, prohibitingSwitches: true) {
                try withTenant(globex) { ran = true }
            }
            Issue.record("the switch was allowed")
        } catch let error as TenantedError {
            #expect(error.code == .switchProhibited)
            #expect(error.message.contains("acme") && error.message.contains("globex"))
        }
        #expect(!ran)
        // The prohibition is inherited by nested same-tenant scopes.
        #expect(throws: TenantedError.self) {
            try withTenant(acme, prohibitingSwitches: true) {
                try withTenant(acme) { try withTenant(globex) {} }
            }
        }
    }

    @Test("withoutTenant clears the tenant and allows switching inside a prohibiting scope")
    func withoutTenantScope() async throws {
        let seen = try await withTenant(acme, prohibitingSwitches: true) {
            try await withoutTenant { () async throws -> [TenantID?] in
                let cleared = Tenant.current
                let switched = try await withTenant(globex) { () async in Tenant.current }
                return [cleared, switched]
            }
        }
        #expect(seen == [nil, globex])
        let sync: TenantID? = try withTenant(acme) { withoutTenant { Tenant.current } }
        #expect(sync == nil)
    }

    @Test("withoutTenant keeps the body's typed error")
    func withoutTenantTypedThrows() {
        struct Boom: Error, Equatable {}
        #expect(throws: Boom()) {
            try withoutTenant { () throws(Boom) in throw Boom() }
        }
    }

    @Test("the context follows async let, task groups and Task {}, but not Task.detached")
    func propagation() async throws {
        let seen = try await withTenant(acme) { () async -> [String: TenantID?] in
            async let child = Tenant.current
            let grouped = await withTaskGroup(of: TenantID?.self) { group in
                group.addTask { Tenant.current }
                return await group.next() ?? nil
            }
            let unstructured = await Task { Tenant.current }.value
            let detached = await Task.detached { Tenant.current }.value
            return ["async let": await child, "group": grouped, "Task": unstructured, "detached": detached]
        }
        #expect(seen["async let"] == acme)
        #expect(seen["group"] == acme)
        #expect(seen["Task"] == acme)
        #expect(seen["detached"] == .some(nil))
    }

    @Test("the metadata provider adds the tenant inside a scope and nothing outside")
    func metadataProvider() throws {
        #expect(Logger.MetadataProvider.tenanted.get().isEmpty)
        let inside = try withTenant(acme) { Logger.MetadataProvider.tenanted.get() }
        #expect(inside["tenant"] == .string("acme"))
    }
}
