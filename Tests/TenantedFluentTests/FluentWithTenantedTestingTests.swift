import FluentKit
import NIOPosix
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import TenantedTesting
import Testing

/// Fluent code tested the way an app tests it with TenantedTesting: the suite's throwaway tenancy
/// registered as the routing default database, each test in a tenant of its own.
@Suite(.tenancy { storage in
    try Tenancy(
        store: try SQLiteStore(configuration: .init(root: storage.directory, logger: .silent)),
        migrations: .base(), logger: .silent
    )
}, .tenant)
struct FluentWithTenantedTestingTests {
    /// `req.db`: the routing default database over the suite's tenancy. Not shut down here: that
    /// would shut the suite's tenancy down, which the trait does after the last test.
    func db() throws -> any Database {
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.tenanted(try TenantedTest.tenancy), as: .tenanted, isDefault: true)
        return databases.database(logger: .init(label: "test"), on: MultiThreadedEventLoopGroup.singleton.any())!
    }

    @Test("parallel tests write the same IDs, each in its own tenant", arguments: 1...4)
    func sameIDsInEachTestsTenant(count: Int) async throws {
        let db = try db()
        for index in 1...count { try await Note(title: "note \(index)").create(on: db) }
        let notes = try await Note.query(on: db).sort(\.$id).all()
        #expect(notes.map(\.id) == Array(1...count), "IDs start at 1 in every test's tenant")
        #expect(notes.allSatisfy { $0.tenant == Tenant.current })
    }

    @Test("outside the test's tenant, the routing database touches nothing", .untenanted)
    func untenanted() async throws {
        let db = try db()
        await #expect(throws: TenantedError.self) { _ = try await Note.query(on: db).all() }
    }
}
