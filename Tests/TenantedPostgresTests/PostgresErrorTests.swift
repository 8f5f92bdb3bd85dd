import Tenanted
import TenantedFluentPostgres
import TenantedPostgres
import TenantedTestSupport
import Testing

/// What PostgreSQL says goes to `debugDescription` only: a server's message can quote names, values
/// and hosts, and `description` is what a server shows a client or writes at any log level.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct PostgresErrorTests {
    @Test func aServerFailureSaysWhatFailedWithoutTheServersMessage() async throws {
        let stores = try PostgresTestStores(layout: .databasePerTenant(template: "tenanted_no_such_template"))
        let tenancy = try Tenancy(store: try stores.makeStore(), logger: .silent)
        try await withTeardown { () async throws in
            let error = await #expect(throws: TenantedError.self) { try await tenancy.createTenant(TenantID("acme")) }
            #expect(error?.code == .storeFailure)
            #expect(error?.description.contains("SQLSTATE 3D000") == true, "\(String(describing: error))")
            #expect(error?.description.contains("tenanted_no_such_template") == false, "\(String(describing: error))")
            #expect(error?.debugDescription.contains("tenanted_no_such_template") == true, "the server's words are kept for debugging")
            let tenants = try await tenancy.tenants()
            #expect(tenants.isEmpty, "the failed create left no tenant")
        } teardown: {
            await tenancy.shutdown()
            await stores.cleanUp()
        }
    }
}
