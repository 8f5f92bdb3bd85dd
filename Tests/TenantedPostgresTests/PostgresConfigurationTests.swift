import Tenanted
@testable import TenantedPostgres
import Testing

/// Bad server URLs, names and options are refused with a clear `invalidConfiguration`; no server needed.
struct PostgresConfigurationTests {
    @Test func parsesAURL() throws {
        let server = try PostgresServer(name: "eu-1", url: "postgresql://app:s3cret@db.example.com:6543/tenants?sslmode=require")
        #expect(server.host == "db.example.com")
        #expect(server.port == 6543)
        #expect(server.username == "app")
        #expect(server.password == "s3cret")
        #expect(server.database == "tenants")
        #expect(server.tls == .require)
        let minimal = try PostgresServer(name: "local", url: "postgres://app@127.0.0.1")
        #expect(minimal.port == 5432 && minimal.database == "postgres" && minimal.password == nil && minimal.tls == .prefer)
        #expect(!server.description.contains("s3cret"))
    }

    @Test(arguments: [
        "", "not a url", "http://app@host/db", "postgres://host/db", "postgres://@host/db", "postgres://app@/db",
        "postgres://app@host:0/db", "postgres://app@host:70000/db", "postgres://app@host/a/b",
        "postgres://app@host/db?sslmode=maybe", "postgres://app@host/db?application_name=x", "postgres://app:pw@host:port/db",
    ])
    func refusesABadURL(url: String) {
        #expect {
            try PostgresServer(name: "s", url: url)
        } throws: { error in
            guard let error = error as? TenantedError else { return false }
            return error.code == .invalidConfiguration && !error.message.contains(":pw@")
        }
    }

    @Test(arguments: ["", "a b", "a/b", "ünï", String(repeating: "s", count: 64), "a;b"])
    func refusesABadServerName(name: String) {
        #expect(throws: TenantedError.self) { try PostgresServer(name: name, url: "postgres://app@host/db") }
    }

    @Test func refusesBadStoreOptions() throws {
        let one = try PostgresServer(name: "one", url: "postgres://app@host/db")
        let cases: [(String, PostgresStore.Configuration)] = [
            ("no servers", .init(servers: [])),
            ("duplicate names", .init(servers: [one, one])),
            ("unknown catalog server", .init(servers: [one], catalogServer: "two")),
            ("empty prefix", .init(servers: [one], prefix: "")),
            ("uppercase prefix", .init(servers: [one], prefix: "Tenant_")),
            ("prefix with a quote", .init(servers: [one], prefix: "t\"")),
            ("prefix starting with a digit", .init(servers: [one], prefix: "1t_")),
            ("long prefix", .init(servers: [one], prefix: String(repeating: "p", count: 31))),
            ("empty template", .init(servers: [one], layout: .databasePerTenant(template: ""))),
            ("no connections", .init(servers: [one], maximumConnectionsPerTenant: 0)),
            ("no lock timeout", .init(servers: [one], lockTimeout: .zero)),
        ]
        for (what, configuration) in cases {
            #expect(throws: TenantedError.self, "\(what)") { try PostgresStore(configuration: configuration) }
        }
    }

    @Test func refusesNamesLongerThanAPostgreSQLIdentifier() throws {
        let store = try PostgresStore(configuration: .init(servers: [try PostgresServer(name: "one", url: "postgres://app@host/db")], prefix: "tenant_"))
        #expect(try store.objectName(of: TenantID(String(repeating: "a", count: 56))) == "tenant_" + String(repeating: "a", count: 56))
        #expect {
            try store.objectName(of: TenantID(String(repeating: "a", count: 57)))
        } throws: { ($0 as? TenantedError)?.code == .badTenantName }
    }

    @Test func placementPolicies() throws {
        let load = [(server: "a", tenants: 3), (server: "b", tenants: 1), (server: "c", tenants: 1)]
        let tenant = try TenantID("acme")
        #expect(PostgresStore.PlacementPolicy.fewestTenants.server(for: tenant, tenantsPerServer: load) == "b")
        // Pinned: FNV-1a 64 of "acme" mod 3 (computed outside Swift), the same in every process and release.
        #expect(PostgresStore.PlacementPolicy.hash.server(for: tenant, tenantsPerServer: load) == "c")
        // The hash spreads names over the servers.
        let spread = Set(try (0..<60).map { PostgresStore.PlacementPolicy.hash.server(for: try TenantID("t\($0)"), tenantsPerServer: load) })
        #expect(spread == ["a", "b", "c"])
    }
}

/// The connection budget's options: the default is workable, and values that cannot work are
/// refused with a message naming the option. No server needed.
@Suite("Connection budget configuration")
struct ConnectionBudgetConfigurationTests {
    static let one = try! PostgresServer(name: "one", url: "postgres://app:s3cret@host/db")

    @Test("the default budget is 90 and holds the default clients in every layout")
    func defaults() throws {
        let configuration = PostgresStore.Configuration(servers: [Self.one])
        #expect(configuration.maximumConnectionsPerServer == 90)
        #expect(configuration.maximumMaintenanceConnections == 4)
        #expect(configuration.minimumConnections(on: "one", catalogServer: "one") == 16)
        #expect(configuration.connectionBudgetTimeout == .seconds(10))
        for layout: PostgresStore.Layout in [.databasePerTenant(), .schemaPerTenant(.poolPerTenant), .schemaPerTenant(.sharedPool)] {
            _ = try PostgresStore(configuration: .init(servers: [Self.one], layout: layout))
        }
    }

    @Test("a budget below the fixed clients plus one pool is refused, naming the option and what it must hold")
    func refusesTooSmallABudget() throws {
        // Catalog, locks and maintenance clients of 2 each, plus a tenant pool of 4: 10.
        _ = try PostgresStore(configuration: .init(servers: [Self.one], maximumConnectionsPerTenant: 4, maximumMaintenanceConnections: 2, maximumConnectionsPerServer: 10))
        for budget in [9, 1, 0, -5] {
            #expect {
                try PostgresStore(configuration: .init(servers: [Self.one], maximumConnectionsPerTenant: 4, maximumMaintenanceConnections: 2, maximumConnectionsPerServer: budget))
            } throws: { error in
                guard let error = error as? TenantedError else { return false }
                return error.code == .invalidConfiguration && error.message.contains("maximumConnectionsPerServer is \(budget)")
                    && error.message.contains("at least 10") && !error.message.contains("s3cret")
            }
        }
        // The shared pool is a fixed client too; a tenant pool then holds no connection of its own.
        #expect(throws: TenantedError.self) {
            try PostgresStore(configuration: .init(servers: [Self.one], layout: .schemaPerTenant(.sharedPool), maximumSharedConnections: 2, maximumMaintenanceConnections: 2, maximumConnectionsPerServer: 9))
        }
        _ = try PostgresStore(configuration: .init(servers: [Self.one], layout: .schemaPerTenant(.sharedPool), maximumSharedConnections: 2, maximumMaintenanceConnections: 2, maximumConnectionsPerServer: 10))
    }

    @Test("a server that is not the catalog server needs only its maintenance client and a pool")
    func otherServersNeedLess() throws {
        let two = try PostgresServer(name: "two", url: "postgres://app@host2/db")
        let configuration = PostgresStore.Configuration(servers: [Self.one, two], maximumConnectionsPerTenant: 4, maximumMaintenanceConnections: 2)
        #expect(configuration.minimumConnections(on: "one", catalogServer: "one") == 10)
        #expect(configuration.minimumConnections(on: "two", catalogServer: "one") == 6)
    }

    @Test("a budget timeout that is not positive is refused")
    func refusesANonPositiveTimeout() {
        for timeout: Duration in [.zero, .seconds(-1)] {
            #expect {
                try PostgresStore(configuration: .init(servers: [Self.one], connectionBudgetTimeout: timeout))
            } throws: { ($0 as? TenantedError)?.code == .invalidConfiguration && ($0 as? TenantedError)?.message.contains("connectionBudgetTimeout") == true }
        }
    }
}
