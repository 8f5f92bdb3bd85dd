import FluentKit
import Logging
import NIOPosix
import SQLKit
import Tenanted
import TenantedFluent
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The SQLite store behind a type that has no Fluent adapter: what a tenancy over a store without a
/// Fluent module looks like to the Fluent layer. Real files underneath.
private struct PlainSQLiteStore: TenantStore {
    let base: SQLiteStore

    func create(_ tenant: TenantID, prepare: (SQLitePool) async throws -> Void) async throws {
        try await base.create(tenant, prepare: prepare)
    }
    func destroy(_ tenant: TenantID) async throws { try await base.destroy(tenant) }
    func exists(_ tenant: TenantID) async throws -> Bool { try await base.exists(tenant) }
    func tenants() async throws -> [TenantID] { try await base.tenants() }
    func open(_ tenant: TenantID) async throws -> SQLitePool { try await base.open(tenant) }
    func close(_ pool: SQLitePool) async { await base.close(pool) }
}

@Suite struct NonFluentStoreTests {
    @Test("a store without a Fluent adapter: configuring it is a misuse, and its routing database touches nothing")
    func aStoreWithoutAFluentAdapterIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let tenancy = try Tenancy(store: PlainSQLiteStore(base: try SQLiteStore(configuration: .init(root: directory.path, logger: .silent))), logger: .silent)
        try await tenancy.createTenant(.acme)

        let refused = #expect(throws: TenantedError.self) { try tenancy.requireFluentStore() }
        #expect(refused?.code == .misuse)
        #expect(refused?.message.contains("PlainSQLiteStore") == true)
        #expect(refused?.message.contains("TenantedFluentSQLite") == true, "the message says what to import")

        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
        let db = try #require(databases.database(logger: .silent, on: MultiThreadedEventLoopGroup.singleton.any()))
        await expectTenantedError(.misuse) {
            try await tenancy.withTenant(.acme) { _ = try await (db as! any SQLDatabase).raw("SELECT 1").all() }
        }
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}
