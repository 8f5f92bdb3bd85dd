import Tenanted
import TenantedTestSupport
import Testing

@Suite("Tenant inventory: list queries and the pools' snapshot")
struct TenantInventoryTests {
    static let names = try! ["a", "a-1", "ab", "b", "b2", "ba", "c"].map(TenantID.init)

    @Test("a list query keeps the names after or before a name, with a prefix, up to its limit")
    func listQueryPages() throws {
        let sorted = Self.names
        #expect(try TenantListQuery(limit: 3).page(of: sorted).map(\.rawValue) == ["a", "a-1", "ab"])
        #expect(try TenantListQuery(after: TenantID("ab"), limit: 3).page(of: sorted).map(\.rawValue) == ["b", "b2", "ba"])
        #expect(try TenantListQuery(before: TenantID("ba"), limit: 2).page(of: sorted).map(\.rawValue) == ["b", "b2"])
        #expect(try TenantListQuery(prefix: "b", limit: 10).page(of: sorted).map(\.rawValue) == ["b", "b2", "ba"])
        #expect(try TenantListQuery(prefix: "b", after: TenantID("b"), limit: 1).page(of: sorted).map(\.rawValue) == ["b2"])
        #expect(try TenantListQuery(prefix: "z").page(of: sorted).isEmpty)
        #expect(try TenantListQuery(after: TenantID("c")).page(of: sorted).isEmpty)
    }

    @Test("bad list queries are refused with a clear error that does not echo the input")
    func badListQueries() throws {
        for limit in [0, -1, TenantListQuery.maximumLimit + 1] {
            let error = #expect(throws: TenantedError.self) { try TenantListQuery(limit: limit) }
            #expect(error?.code == .invalidConfiguration)
        }
        let both = #expect(throws: TenantedError.self) { try TenantListQuery(after: TenantID("a"), before: TenantID("b")) }
        #expect(both?.code == .invalidConfiguration)
        for prefix in ["-a", "A", "a/b", "a b", "..", "\0", "é", String(repeating: "a", count: 64)] {
            let error = #expect(throws: TenantedError.self, "\(prefix.debugDescription)") { try TenantListQuery(prefix: prefix) }
            #expect(error?.code == .badTenantName)
            #expect(error?.message.hasPrefix("invalid tenant name prefix: ") == true)
        }
    }

    @Test("the snapshot counts open, leased and idle pools, opens, evictions and overflows since the registry was made")
    func poolsSnapshot() async throws {
        let pools = try TenantPools<Int>(
            configuration: .init(maximumOpenPools: 1, maximumOverflow: 1),
            open: { _ in 7 },
            close: { _ in }
        )
        let a = try TenantID("a"), b = try TenantID("b"), c = try TenantID("c")
        #expect(pools.poolState(of: a) == .closed)
        try await pools.withPool(a) { _ in
            #expect(pools.poolState(of: a) == .leased(1))
            // b while a is leased: the registry overflows.
            try await pools.withPool(b) { _ in
                let snapshot = pools.snapshot
                #expect(snapshot.leased == 2 && snapshot.open == 2 && snapshot.overflow == 1 && snapshot.overflowsSinceStart == 1)
            }
        }
        try await pools.withPool(c) { _ in }
        let snapshot = pools.snapshot
        #expect(snapshot.opensSinceStart == 3)
        #expect(snapshot.evictionsSinceStart == 2)
        #expect(snapshot.open == 1 && snapshot.idle == 1 && snapshot.leased == 0 && snapshot.overflow == 0)
        #expect(snapshot.capacity == 1 && snapshot.hardLimit == 2)
        guard case .idle(since: .some) = pools.poolState(of: c) else {
            Issue.record("c's pool should be idle with a last use, is \(pools.poolState(of: c))")
            return
        }
        await pools.shutdown()
    }
}
