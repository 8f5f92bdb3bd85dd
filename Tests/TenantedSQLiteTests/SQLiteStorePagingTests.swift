import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

@Suite("SQLite store: paged listing and sizes")
struct SQLiteStorePagingTests {
    @Test("pages equal the full listing's pages; strays (no database, invalid names, a bare file) are never listed")
    func pagesMatchTheFullListing() async throws {
        let directory = try TemporaryDirectory()
        try await directory.withTenancy { tenancy async throws in
            let names = ["a", "a1", "b", "b-2", "c", "d", "e"]
            for name in names { try await tenancy.createTenant(TenantID(name)) }
            try directory.makeDirectory("tenants/bb")  // no database: not a tenant
            try directory.makeFile("tenants/BAD/main.sqlite3")  // not a valid name
            try directory.makeFile("tenants/stray.sqlite3")
            let all = try await tenancy.tenants()
            #expect(all.map(\.rawValue) == names)
            let queries = try [
                TenantListQuery(limit: 3), TenantListQuery(after: TenantID("a1"), limit: 3), TenantListQuery(before: TenantID("c"), limit: 2),
                TenantListQuery(prefix: "b", limit: 10), TenantListQuery(prefix: "b", after: TenantID("b"), limit: 10),
                TenantListQuery(after: TenantID("bb"), limit: 2), TenantListQuery(before: TenantID("a"), limit: 5), TenantListQuery(prefix: "z"),
            ]
            for query in queries {
                #expect(try await tenancy.tenants(matching: query) == query.page(of: all), "\(query)")
            }
            #expect(try await tenancy.tenantCount() == names.count)
        }
    }

    @Test("a tenant's size is its database file and WAL; an unknown tenant is tenantNotFound")
    func storageSize() async throws {
        let directory = try TemporaryDirectory()
        try await directory.withTenancy { tenancy async throws in
            let acme = try TenantID("acme")
            try await tenancy.createTenant(acme)
            let empty = try #require(try await tenancy.storageSize(of: acme))
            #expect(empty > 0)
            try await tenancy.withTenant(acme) {
                try await currentPool().write { connection in
                    _ = try await connection.query("INSERT INTO notes (id, body) SELECT value, printf('%.1000c', 'x') FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 500) SELECT value FROM n)")
                }
            }
            let grown = try #require(try await tenancy.storageSize(of: acme))
            #expect(grown > empty + 400_000)
            let error = await #expect(throws: TenantedError.self) { try await tenancy.storageSize(of: TenantID("nobody")) }
            #expect(error?.code == .tenantNotFound)
        }
    }
}
