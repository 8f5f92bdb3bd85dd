import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import TenantedTesting
import Testing

/// The shipped TenantedTesting traits, used the way an app's tests use them: a throwaway SQLite
/// tenancy for the suite, a tenant of its own for each test.
@Suite(.tenancy { storage in
    try Tenancy(store: try SQLiteStore(configuration: .init(root: storage.directory, logger: .silent)), migrator: SQLMigrator.base, logger: .silent)
}, .tenant)
struct TenantedTestingTests {
    @Test("each test runs inside a fresh tenant of the suite's tenancy", arguments: 0..<4)
    func eachTestHasItsOwnTenant(row: Int) async throws {
        let tenancy = try TenantedTest.tenancy
        let tenant = try Tenant.require()
        #expect(tenant.rawValue.hasPrefix("test-"))
        #expect(try await tenancy.tenantExists(tenant))
        let pool = try tenancy.currentPool(as: SQLitePool.self)
        try await pool.write { _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text("row \(row)")]) }
        // Parallel cases each wrote one row into their own tenant: nobody else's rows are here.
        #expect(try await pool.read { try await $0.strings("SELECT body FROM notes") } == ["row \(row)"])
        #expect(try TenantedTest.storage.directory.hasPrefix(FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path))
    }

    @Test("an untenanted test runs outside every tenant, even in a suite whose tests get one", .untenanted)
    func untenanted() async throws {
        #expect(Tenant.current == nil)
        #expect(throws: TenantedError.self) { try Tenant.require() }
        #expect(try await TenantedTest.tenancy.tenants().allSatisfy { $0.rawValue.hasPrefix("test-") })
    }
}

@Suite("The TenantedTesting traits clean up")
struct TenantedTestingCleanupTests {
    struct Boom: Error {}

    final class Destroyed: TenancyDelegate {
        let names = Locked<[String]>([])
        func tenantDestroyed(_ tenant: TenantID) { names.withLock { $0.append(tenant.rawValue) } }
    }

    @Test("a failing test's tenant, the suite's tenants and its storage are all gone afterwards")
    func failingTestsAreCleanedUp() async throws {
        let test = try #require(Test.current)
        let testCase = try #require(Test.Case.current)
        let destroyed = Destroyed()
        let seen = Locked<(storage: String, prefix: String, tenant: String)?>(nil)
        let suite: TenancyTrait = .tenancy { storage in
            try Tenancy(store: try SQLiteStore(configuration: .init(root: storage.directory, logger: .silent)), migrator: SQLMigrator.base,
                        delegate: destroyed, logger: .silent)
        }
        await #expect(throws: Boom.self) {
            try await suite.provideScope(for: test, testCase: testCase) {
                // A tenant the suite made itself, and the failing test's own.
                try await TenantedTest.tenancy.createTenant(TenantID("kept-by-suite"))
                let perTest: TenantTrait = .tenant
                try await perTest.provideScope(for: test, testCase: testCase) {
                    let tenant = try Tenant.require()
                    let storage = try TenantedTest.storage
                    seen.withLock { $0 = (storage.directory, storage.prefix, tenant.rawValue) }
                    #expect(FileManager.default.fileExists(atPath: storage.directory + "/storage/tenants/\(tenant)/main.sqlite3"))
                    throw Boom()
                }
            }
        }
        let (directory, prefix, tenant) = try #require(seen.value)
        #expect(prefix.wholeMatch(of: /tt_[0-9a-f]{10}_/) != nil)
        #expect(destroyed.names.value == [tenant, "kept-by-suite"], "the test's tenant first, then everything the suite left")
        #expect(!FileManager.default.fileExists(atPath: directory), "the storage is removed")
    }

    @Test("outside the traits there is no tenancy: a clear misuse error", .untenanted)
    func noTenancyOutsideTheTrait() {
        let error = #expect(throws: TenantedError.self) { try TenantedTest.tenancy }
        #expect(error?.code == .misuse && error?.message.contains(".tenancy") == true)
    }
}
