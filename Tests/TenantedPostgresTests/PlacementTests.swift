import FluentKit
import Foundation
import PostgresNIO
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
@testable import TenantedPostgres
import TenantedTestSupport
import Testing

/// Tenants spread over two real PostgreSQL servers; moving one keeps its data and loses no write.
@Suite(.enabled(if: PostgresTestServer.url != nil && PostgresTestServer.secondURL != nil, PostgresTestServer.secondUnsetReason))
struct PlacementTests {
    @Test(arguments: [TestLayout.database, .schema])
    func newTenantsGoToTheServerWithFewest(layout: TestLayout) async throws {
        try await withPlacement(layout) { fixture in
            for name in ["p1", "p2", "p3", "p4"] { try await fixture.tenancy.createTenant(TenantID(name)) }
            var perServer: [String: Int] = [:]
            for tenant in try await fixture.tenancy.tenants() {
                perServer[try await fixture.tenancy.server(of: tenant), default: 0] += 1
            }
            #expect(perServer == ["primary": 2, "secondary": 2])
            // The catalog's one-query count per server (the admin console's overview) agrees.
            let store = try fixture.tenancy.store(as: PostgresStore.self)
            #expect(try await store.tenantCountsByServer() == perServer)
            // Sizes come from each tenant's own server.
            for tenant in try await fixture.tenancy.tenants() {
                #expect(try await fixture.tenancy.storageSize(of: tenant).map { $0 > 0 } == true, "\(tenant)")
            }
            let missing = await #expect(throws: TenantedError.self) { try await fixture.tenancy.storageSize(of: TenantID("nobody")) }
            #expect(missing?.code == .tenantNotFound)
            // Each tenant really lives on its server: its database or schema is there, not on the other.
            for tenant in try await fixture.tenancy.tenants() {
                let home = try await fixture.tenancy.server(of: tenant)
                for server in fixture.stores.servers {
                    let present = try await fixture.objectExists(tenant, on: server)
                    #expect(present == (server.name == home), "\(tenant) on \(server.name)")
                }
            }
        }
    }

    @Test(arguments: [TestLayout.database, .schema, .sharedSchema])
    func movingATenantKeepsEveryAcknowledgedWrite(layout: TestLayout) async throws {
        try await withPlacement(layout) { fixture in
            let tenancy = fixture.tenancy
            try await tenancy.createTenant(.mover)
            try await tenancy.createTenant(.stayer)
            for value in 0..<50 { try await fixture.insert(value, into: .mover) }
            try await fixture.insert(7, into: .stayer)
            let from = try await tenancy.server(of: .mover)
            let to = from == "primary" ? "secondary" : "primary"

            // A writer keeps writing during the move: every write either is acknowledged (and must
            // survive) or fails with the move's clear refusal.
            let acknowledged = Locked(50)
            let refusals = Locked([String]())
            let stop = Locked(false)
            let writer = Task {
                var value = 1000
                while !stop.value {
                    value += 1
                    do {
                        try await fixture.insert(value, into: .mover)
                        acknowledged.withLock { $0 += 1 }
                    } catch {
                        refusals.append(String(reflecting: error))
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            let report = try await tenancy.moveTenant(.mover, to: to)
            stop.withLock { $0 = true }
            await writer.value

            #expect(report.from == from && report.to == to)
            #expect(try await tenancy.server(of: .mover) == to)
            #expect(try await tenancy.tenants() == [.mover, .stayer])
            let values = try await fixture.values(of: .mover)
            #expect(values.count == acknowledged.value, "acknowledged \(acknowledged.value), found \(values.count)")
            #expect(Set(0..<50).isSubset(of: Set(values)))
            #expect(report.rowCounts["items"] ?? 0 >= 50)
            for refusal in refusals.value {
                // Refused writes say why; anything else (a pool closing under the move) is a clean error too.
                #expect(refusal.contains("being moved") || refusal.contains("tenantNotFound") || refusal.contains("storeFailure") || refusal.contains("PSQLError"), "\(refusal)")
            }
            // The old copy is gone, the new one is the only one; the other tenant is untouched.
            let source = try #require(fixture.stores.servers.first { $0.name == from })
            let target = try #require(fixture.stores.servers.first { $0.name == to })
            #expect(try await !fixture.objectExists(.mover, on: source))
            #expect(try await fixture.objectExists(.mover, on: target))
            #expect(try await fixture.values(of: .stayer) == [7])
            // Writes work on the new server.
            try await fixture.insert(99_999, into: .mover)
            #expect(try await fixture.values(of: .mover).contains(99_999))
        }
    }

    @Test(arguments: [TestLayout.database, .schema])
    func aTenantBeingMovedRefusesWritesButServesReads(layout: TestLayout) async throws {
        try await withPlacement(layout) { fixture in
            try await fixture.tenancy.createTenant(.mover)
            try await fixture.insert(1, into: .mover)
            let store = fixture.items.store
            let object = try store.objectName(of: .mover)
            let server = try store.server(named: try await fixture.tenancy.server(of: .mover))
            let location = store.location(of: object, on: server)

            try await store.setWritesRefused(true, tenant: .mover, at: location, on: server)
            do {
                try await fixture.insert(2, into: .mover)
                Issue.record("a write to a tenant being moved succeeded")
            } catch {
                #expect(String(reflecting: error).contains("tenant mover is being moved"), "\(String(reflecting: error))")
            }
            #expect(try await fixture.values(of: .mover) == [1])
            try await store.setWritesRefused(false, tenant: .mover, at: location, on: server)
            try await fixture.insert(3, into: .mover)
            #expect(try await fixture.values(of: .mover).sorted() == [1, 3])
        }
    }

    @Test func badMovesAreRefusedAndChangeNothing() async throws {
        try await withPlacement(.database) { fixture in
            try await fixture.tenancy.createTenant(.mover)
            let home = try await fixture.tenancy.server(of: .mover)
            await expectTenantedError(.invalidConfiguration) { try await fixture.tenancy.moveTenant(.mover, to: "nowhere") }
            await expectTenantedError(.invalidConfiguration) { try await fixture.tenancy.moveTenant(.mover, to: home) }
            await expectTenantedError(.tenantNotFound) { try await fixture.tenancy.moveTenant(.stayer, to: "secondary") }
            #expect(try await fixture.tenancy.server(of: .mover) == home)
            try await fixture.insert(1, into: .mover)
        }
    }

    // MARK: Fixture

    final class Fixture: Sendable {
        let stores: PostgresTestStores
        let items: ItemsTenancy

        init(layout: TestLayout) throws {
            stores = try PostgresTestStores(layout: layout.layout, servers: [PostgresTestServer.primary(), PostgresTestServer.secondary()])
            items = try ItemsTenancy(stores: stores)
        }

        var tenancy: Tenancy { items.tenancy }

        func insert(_ value: Int, into tenant: TenantID) async throws { try await items.insert(value, into: tenant) }

        func values(of tenant: TenantID) async throws -> [Int] { try await items.values(of: tenant) }

        func objectExists(_ tenant: TenantID, on server: PostgresServer) async throws -> Bool {
            let name = try tenancy.typedStore.objectName(of: tenant)
            return try await PostgresTestStores.withConnection(to: server) { connection in
                let query: PostgresQuery = if case .databasePerTenant = stores.layout {
                    "SELECT count(*)::int8 FROM pg_database WHERE datname = \(name)"
                } else {
                    "SELECT count(*)::int8 FROM pg_namespace WHERE nspname = \(name)"
                }
                var count: Int64 = 0
                for try await value in try await connection.query(query, logger: .silent).decode(Int64.self) { count = value }
                return count == 1
            }
        }

        func shutdown() async {
            await items.shutdown()
            await stores.cleanUp()
        }
    }

    private func withPlacement(_ layout: TestLayout, _ body: (Fixture) async throws -> Void) async throws {
        let fixture = try Fixture(layout: layout)
        try await withTeardown { try await body(fixture) } teardown: { await fixture.shutdown() }
    }
}

extension TenantID {
    static let mover = try! TenantID("mover")
    static let stayer = try! TenantID("stayer")
}
