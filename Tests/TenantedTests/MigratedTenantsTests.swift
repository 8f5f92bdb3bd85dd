@testable import Tenanted
import Testing

/// The record of tenants found migrated (``MigratedTenants``), which lets an open skip the log.
@Suite("The record of tenants known migrated")
struct MigratedTenantsTests {
    let tenants = (0..<5).map { try! TenantID("t\($0)") }

    @Test("a tenant is known only at the stamp it was recorded with, and forgotten on demand")
    func knownAtItsStampOnly() {
        let record = MigratedTenants(capacity: 10)
        record.record(tenants[0], at: TenantMigrationStamp([1, 2, 3]))
        #expect(record.contains(tenants[0], at: TenantMigrationStamp([1, 2, 3])))
        #expect(!record.contains(tenants[0], at: TenantMigrationStamp([1, 2, 4])), "another stamp is another state of the tenant")
        #expect(!record.contains(tenants[1], at: TenantMigrationStamp([1, 2, 3])))
        record.forget(tenants[0])
        #expect(!record.contains(tenants[0], at: TenantMigrationStamp([1, 2, 3])))
    }

    @Test("bounded: past its capacity a new tenant makes room; a known one is updated in place")
    func bounded() {
        let record = MigratedTenants(capacity: 3)
        for (index, tenant) in tenants.enumerated() { record.record(tenant, at: TenantMigrationStamp([UInt64(index)])) }
        #expect(record.count == 3)
        #expect(record.contains(tenants[4], at: TenantMigrationStamp([4])))
        record.record(tenants[4], at: TenantMigrationStamp([9]))
        #expect(record.count == 3)
        #expect(record.contains(tenants[4], at: TenantMigrationStamp([9])))
    }
}
