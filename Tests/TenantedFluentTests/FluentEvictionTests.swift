import FluentKit
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The registry's guarantee seen through Fluent: a pool is never closed under a running query.
@Suite struct FluentEvictionTests {
    @Test func aRunningFluentQuerySurvivesEvictionPressureAndTheTenantReopensIntact() async throws {
        var configuration = Tenancy.Configuration()
        configuration.pools.maximumOpenPools = 1
        try await withFluent(configuration: configuration, tenants: ["acme", "globex", "initech"]) { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                for index in 1...20 { try await Note(title: "n\(index)").create(on: fixture.db()) }
            }
            let inside = Gate()
            let release = Gate()
            // acme holds a transaction open mid-way while two other tenants need pools.
            let running = Task {
                try await fixture.tenancy.withTenant(.acme) {
                    try await fixture.db().transaction { tx in
                        try await Note(title: "during eviction").create(on: tx)
                        inside.open()
                        await release.wait()
                        return try await Note.query(on: tx).count()
                    }
                }
            }
            await inside.wait()
            for tenant in [TenantID.globex, try TenantID("initech")] {
                let count = try await fixture.tenancy.withTenant(tenant) { try await Note.query(on: fixture.db()).count() }
                #expect(count == 0)
            }
            // acme is still open and leased: the cap was overflowed, not enforced on a running query.
            #expect(fixture.tenancy.pools.openTenants.contains(.acme))
            release.open()
            #expect(try await running.value == 21)

            // With acme idle, the next tenant evicts it; it reopens from disk with everything committed.
            _ = try await fixture.tenancy.withTenant(.globex) { try await Note.query(on: fixture.db()).count() }
            #expect(!fixture.tenancy.pools.openTenants.contains(.acme))
            let titles = try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).all().map(\.title) }
            #expect(titles.count == 21 && titles.contains("during eviction"))
        }
    }
}
